"""The detector interface and registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import cv2
import numpy as np

from facepoints.crop import area_halvings, halvings_before
from facepoints.errors import FacepointsError


@dataclass
class Detection:
    box: np.ndarray  # (4,) x, y, w, h in image pixels
    score: float
    landmarks: np.ndarray | None = None  # (5, 2) celeba5 order: eyes, nose, mouth corners (image's left first)


def shrink(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """The image shrunk so its longer side is at most ``max_side``, and the scale used.

    Exact area-averaging halvings, then one bilinear step of less than 2x: one area-averaging
    resize by a fraction took 2.5 ms an AFW photo, this 0.4, and YuNet finds the same 337 AFW
    faces at 640 px (docs/benchmarks.md). Pixel centres map as (x + 0.5) * scale - 0.5 exactly;
    after several halvings a side may round to ``max_side`` + 1."""
    scale = min(1.0, max_side / max(image.shape[:2]))
    halvings = halvings_before(scale)
    image = area_halvings(image, halvings)
    rest = scale * 2**halvings
    if rest < 1.0:
        image = cv2.resize(image, None, fx=rest, fy=rest, interpolation=cv2.INTER_LINEAR)
    return image, scale


def scaled_back(detections: list[Detection], scale: float) -> list[Detection]:
    """Detections made on an image shrunk by ``scale``, in the original image's pixel centres."""
    if scale == 1.0:
        return detections
    return [Detection(d.box / scale, d.score, None if d.landmarks is None else (d.landmarks + 0.5) / scale - 0.5)
            for d in detections]


class Detector(Protocol):
    def __call__(self, image: np.ndarray) -> list[Detection]: ...


_DETECTORS: dict[str, Callable[..., Detector]] = {}


def register_detector(name: str):
    def add(factory):
        _DETECTORS[name] = factory
        return factory

    return add


def list_detectors() -> list[str]:
    return sorted(_DETECTORS)


def create_detector(name: str, **options) -> Detector:
    from facepoints.detectors import yunet  # noqa: F401  (registers itself)

    try:
        factory = _DETECTORS[name]
    except KeyError:
        raise FacepointsError(f"unknown face detector {name!r}; choose one of {', '.join(list_detectors())}") from None
    return factory(**options)
