"""Confidence per keypoint in [0, 1] from how far the flip test's two passes disagree.

The bundled models output points only. With flip test on, the runtime runs each face twice, as it
is and mirrored; where the two passes put a point far apart (in units of the crop), the model is
unsure of it, and its error is larger. Three things set a point's confidence, through a logistic
curve: its own spread, the face's mean spread (a face the model is unsure of as a whole, blurred or
covered, has larger errors everywhere), and which point it is (jaw points are less sure than eye
corners on every face). The curve gives the chance that the point is within
``calibrations()["tolerance"]`` eye distances of the truth; it is fitted per bundled model on
300-W training faces (benchmarks/face_extras.py --fit-confidence) and kept in assets/confidence.json.
Other models share the default model's curve, without its per-point terms where their points differ.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

import numpy as np

from facepoints.schemes import mapping_matrix


@functools.cache
def calibrations() -> dict:
    """assets/confidence.json: {"tolerance": ..., "models": {name: {"slope", "face_slope", "points"}}}."""
    return json.loads((resources.files("facepoints") / "assets" / "confidence.json").read_text())


def confidence_features(spread: np.ndarray, crop_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(..., K) spreads in crop pixels -> each point's log spread (in crops) and its face's mean of them."""
    log_spread = np.log(np.maximum(np.asarray(spread, np.float64) / crop_size, 1e-5))
    return log_spread, np.broadcast_to(log_spread.mean(-1, keepdims=True), log_spread.shape)


def point_confidence(spread: np.ndarray, crop_size: int, model: str = "ibug68") -> np.ndarray:
    """(..., K) flip-test spread in crop pixels -> (..., K) confidence in [0, 1]."""
    curves = calibrations()["models"]
    curve = curves.get(model, curves["ibug68"])
    points = np.asarray(curve["points"])
    if len(points) != np.shape(spread)[-1]:
        points = points.mean()
    log_spread, face = confidence_features(spread, crop_size)
    logit = points + curve["slope"] * log_spread + curve["face_slope"] * face
    return (1 / (1 + np.exp(-logit))).astype(np.float32)


def convert_confidence(confidence: np.ndarray, source: str, target: str) -> np.ndarray:
    """Confidence of a converted scheme's points: the mean of the points each is made from."""
    if source == target:  # the model's own points, as most faces are given
        return confidence
    return (mapping_matrix(source, target) @ confidence).astype(np.float32)
