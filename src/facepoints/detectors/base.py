"""The detector interface and registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from facepoints.errors import FacepointsError


@dataclass
class Detection:
    box: np.ndarray  # (4,) x, y, w, h in image pixels
    score: float
    landmarks: np.ndarray | None = None  # (5, 2) celeba5 order: eyes, nose, mouth corners (image's left first)


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
