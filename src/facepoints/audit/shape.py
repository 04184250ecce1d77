"""Geometric outliers: labels that no face shape explains, whatever the pixels say.

Each face's labelled keypoints are aligned to a robust mean shape by a similarity transform
(Procrustes, refitted without the face's worst point so one bad label cannot drag the fit); a
keypoint whose residual is far beyond the spread of that keypoint over all faces is suspect. This
catches what the pixel model can miss (a model fooled by an odd picture), and needs no training.
"""

from __future__ import annotations

import numpy as np

from facepoints.audit.findings import Finding
from facepoints.crop import apply_affine, similarity_transform
from facepoints.data.keypoint_set import KeypointSet

SHAPE_Z = 12.0  # poses and open mouths spread shapes far more than pixels spread model misses
MIN_POINTS = 4  # a similarity has 4 degrees of freedom; fewer points leave no residual to judge
NORM_OF_MEDIAN = 1.1774  # median radius of a 2-D standard normal: sqrt(2 ln 2)


def _align(points: np.ndarray, labelled: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, float]:
    """(K, 2) points in the reference frame, fitted on all labelled points but the worst; and the scale."""
    matrix = similarity_transform(points[labelled], reference[labelled])
    residual = np.linalg.norm(apply_affine(points, matrix) - reference, axis=-1)
    trimmed = labelled.copy()
    trimmed[np.argmax(np.where(labelled, residual, -1.0))] = False
    matrix = similarity_transform(points[trimmed], reference[trimmed])
    return apply_affine(points, matrix), float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))


def shape_residuals(ks: KeypointSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-keypoint residuals (N, K) in the reference frame, their usable mask, and each face's scale."""
    usable = ks.mask.sum(1) >= MIN_POINTS
    reference = np.nanmedian(np.where(ks.mask[..., None], ks.points, np.nan)[usable], axis=0)
    scale = np.ones(len(ks), np.float32)
    for _ in range(2):  # the second pass aligns to the median of aligned shapes
        aligned = np.full(ks.points.shape, np.nan, np.float32)
        for i in np.flatnonzero(usable):
            aligned[i], scale[i] = _align(ks.points[i], ks.mask[i], reference)
        reference = np.nanmedian(np.where(ks.mask[..., None], aligned, np.nan)[usable], axis=0)
    residual = np.linalg.norm(aligned - reference, axis=-1)
    return np.nan_to_num(residual), ks.mask & usable[:, None], scale


def check_shapes(ks: KeypointSet) -> list[Finding]:
    residual, judged, scale = shape_residuals(ks)
    sigma = np.array([
        np.median(residual[judged[:, k], k]) / NORM_OF_MEDIAN if judged[:, k].sum() > 10 else np.inf
        for k in range(residual.shape[1])
    ])
    z = np.where(judged, residual / np.maximum(sigma, 1e-6), 0.0)
    findings = []
    for i in np.flatnonzero(z.max(1) > SHAPE_Z):
        k = int(np.argmax(z[i]))
        pixels = residual[i, k] / scale[i]  # back to the face's own pixels
        findings.append(Finding(int(i), "label", float(z[i, k]),
                                f"{ks.scheme.names[k]} {pixels:.0f} px off the face's shape"))
    return findings
