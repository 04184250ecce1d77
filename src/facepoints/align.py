"""Aligned face crops for recognition models: the similarity transform that puts a face's five
points (eye centres, nose tip, mouth corners; celeba5, converted from any scheme) on a template's.

- ``arcface``: the five-point template of ArcFace / InsightFace (``arcface_dst`` in insightface's
  ``face_align.norm_crop``), for 112 px crops; other sizes scale it. Recognition models trained on
  such crops expect exactly this placement.
- ``head``: the same shape shrunk to 0.6 and moved up, so the whole head (hair and chin) fits in
  the square.
"""

from __future__ import annotations

import numpy as np

from facepoints.crop import crop_face, similarity_transform
from facepoints.errors import FacepointsError
from facepoints.schemes import convert_points

ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]])
TEMPLATES = {
    "arcface": ARCFACE_112,
    "head": (ARCFACE_112 - ARCFACE_112.mean(0)) * 0.6 + (56.0, 62.0),
}


def template_points(template: str, size: int) -> np.ndarray:
    """(5, 2) celeba5 points of ``template`` in a ``size`` px crop (pixel centres)."""
    if template not in TEMPLATES:
        raise FacepointsError(f"unknown template {template!r}; choose {', '.join(TEMPLATES)}")
    return TEMPLATES[template] * (size / 112.0)


def alignment_matrix(points: np.ndarray, scheme: str, size: int = 112, template: str = "arcface") -> np.ndarray:
    """2x3 image-to-crop matrix for a face's keypoints in ``scheme``."""
    five, _ = convert_points(np.asarray(points, np.float32), np.ones(len(points), bool), scheme, "celeba5")
    return similarity_transform(five, template_points(template, size))


def aligned_crop(image: np.ndarray, points: np.ndarray, scheme: str, size: int = 112,
                 template: str = "arcface") -> np.ndarray:
    """(size, size, C) uint8 crop of the face whose keypoints are ``points``."""
    return crop_face(image, alignment_matrix(points, scheme, size, template), size)
