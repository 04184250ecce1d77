"""The detector interface: a detector maps an RGB image to `Detection`s; helpers to run one on a
shrunk copy of a large photo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from facepoints.crop import area_halvings, halvings_before
from facepoints.resample import shrunk


@dataclass
class Detection:
    box: np.ndarray  # (4,) x, y, w, h in image pixels
    score: float
    landmarks: np.ndarray | None = None  # (5, 2) celeba5 order: eyes, nose, mouth corners (image's left first)


def shrink(image: np.ndarray, max_side: int) -> tuple[np.ndarray, np.ndarray]:
    """The image shrunk so its longer side is at most ``max_side``, and the scale used along x and y.

    Exact area-averaging halvings, then one step of less than 2x (``resample.shrunk``): much faster
    than one area-averaging resize by a fraction, and YuNet finds the same faces (docs/benchmarks.md).
    Pixel centres map as (x + 0.5) * scale - 0.5 exactly (the last step's sides are whole pixels,
    so x and y may differ slightly); after several halvings a side may round to ``max_side`` + 1."""
    scale = min(1.0, max_side / max(image.shape[:2]))
    halvings = halvings_before(scale)
    image = area_halvings(image, halvings)
    rest = scale * 2**halvings
    halved_size = np.array(image.shape[1::-1], np.float64)
    if rest < 1.0:
        image = shrunk(image, rest)
    return image, 0.5**halvings * np.array(image.shape[1::-1]) / halved_size


def scaled_back(detections: list[Detection], scale: np.ndarray) -> list[Detection]:
    """Detections made on an image shrunk by ``scale`` (along x and y), in the original image's pixel centres."""
    if np.all(scale == 1.0):
        return detections
    return [Detection(d.box / np.tile(scale, 2), d.score, None if d.landmarks is None else (d.landmarks + 0.5) / scale - 0.5)
            for d in detections]


class Detector(Protocol):
    """What `create_detector` returns: called on an RGB uint8 image, it gives the faces it finds."""

    def __call__(self, image: np.ndarray) -> list[Detection]: ...
