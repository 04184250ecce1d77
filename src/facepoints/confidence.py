"""Confidence per keypoint in [0, 1] from how far the flip test's two passes disagree.

The bundled models output points only. With flip test on, the runtime runs each face twice, as it
is and mirrored; where the two passes put a point far apart (in units of the crop), the model is
unsure of it, and its error is larger. A logistic curve on the log of that spread, fitted on the
photo model's training faces (benchmarks/point_confidence.py), turns it into the chance that the
point is within ``CALIBRATION["tolerance"]`` eye distances of the truth. The curve's constants are
in assets/confidence.json, per bundled model; other models share the default model's curve.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

import numpy as np

from facepoints.schemes import mapping_matrix


@functools.cache
def calibrations() -> dict:
    """assets/confidence.json: {"tolerance": ..., "models": {name: {"slope", "intercept"}}}."""
    return json.loads((resources.files("facepoints") / "assets" / "confidence.json").read_text())


def point_confidence(spread: np.ndarray, crop_size: int, model: str = "ibug68") -> np.ndarray:
    """(..., K) flip-test spread in crop pixels -> (..., K) confidence in [0, 1]."""
    curves = calibrations()["models"]
    curve = curves.get(model, curves["ibug68"])
    logit = curve["intercept"] + curve["slope"] * np.log(np.maximum(spread / crop_size, 1e-5))
    return (1 / (1 + np.exp(-logit))).astype(np.float32)


def convert_confidence(confidence: np.ndarray, source: str, target: str) -> np.ndarray:
    """Confidence of a converted scheme's points: the mean of the points each is made from."""
    return (mapping_matrix(source, target) @ confidence).astype(np.float32)
