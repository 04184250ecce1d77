"""What to do with unlabelled keypoints: the strategies of the Kaggle FKD notebooks, as pure functions.

Each takes a KeypointSet and returns a new one; the fill_* strategies label every keypoint, the
others drop rows. Labelled values are never changed.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from facepoints.data.keypoint_set import KeypointSet
from facepoints.errors import DataError


def drop_incomplete(ks: KeypointSet) -> KeypointSet:
    """Only rows with every keypoint labelled: clean but throws away most of FKD."""
    return ks.subset(ks.mask.all(axis=1))


def forward_fill(ks: KeypointSet) -> KeypointSet:
    """Copy each missing keypoint from the nearest labelled row above it in file order (pandas ffill).

    Rows with nothing above to copy from stay incomplete and are dropped.
    """
    order = np.argsort(ks.rows, kind="stable")
    in_file_order = ks.subset(order)
    source_row = np.where(in_file_order.mask, np.arange(len(ks))[:, None], -1)
    source_row = np.maximum.accumulate(source_row, axis=0)
    keypoint = np.arange(ks.scheme.num_keypoints)[None, :]
    filled_points = in_file_order.points[np.maximum(source_row, 0), keypoint]
    filled = in_file_order.with_points(filled_points, source_row >= 0).subset(np.argsort(order))
    return filled.subset(filled.mask.all(axis=1))


def fill_mean(ks: KeypointSet) -> KeypointSet:
    """Each missing coordinate becomes its column's mean over labelled rows."""
    means = _column_means(ks)
    points = np.where(ks.mask[..., None], ks.points, means[None])
    return ks.with_points(points, np.ones_like(ks.mask))


def fill_linear(ks: KeypointSet) -> KeypointSet:
    """Predict missing coordinates from the core keypoints by least squares fitted on complete rows.

    The core keypoints (eyes, nose tip, bottom lip in FKD15) are labelled on nearly every row and
    fix the face's position, size and tilt, so the rest follow them far better than a column mean.
    Rows that miss a core keypoint get column means for whatever they miss.
    """
    core = list(ks.scheme.core)
    if not core:
        raise ValueError(f"scheme {ks.scheme.name!r} names no core keypoints to regress from")
    complete = ks.mask.all(axis=1)
    needed = 2 * len(core) + 1
    if complete.sum() < needed:
        raise DataError(
            ks.source,
            f"linear filling needs at least {needed} complete rows, found {int(complete.sum())}",
        )
    weights = _fit_linear(_design(ks.points[complete][:, core]), ks.points[complete])
    has_core = ks.mask[:, core].all(axis=1)
    predicted = np.broadcast_to(_column_means(ks), ks.points.shape).copy()
    predicted[has_core] = _predict_linear(_design(ks.points[has_core][:, core]), weights)
    points = np.where(ks.mask[..., None], ks.points, predicted)
    return ks.with_points(points.astype(np.float32), np.ones_like(ks.mask))


IMPUTERS: dict[str, Callable[[KeypointSet], KeypointSet]] = {
    "drop": drop_incomplete,
    "ffill": forward_fill,
    "mean": fill_mean,
    "linear": fill_linear,
}


def _column_means(ks: KeypointSet) -> np.ndarray:
    """(K, 2) mean of each keypoint over the rows that label it."""
    counts = ks.mask.sum(axis=0)
    if (counts == 0).any():
        name = ks.scheme.names[int(np.argmin(counts))]
        raise DataError(ks.source, f"keypoint {name} is labelled on no row, so it cannot be filled")
    sums = np.where(ks.mask[..., None], ks.points, 0.0).sum(axis=0, dtype=np.float64)
    return (sums / counts[:, None]).astype(np.float32)


def _design(core_points: np.ndarray) -> np.ndarray:
    """(N, 2C + 1) regressors: the core coordinates and a constant for the intercept."""
    flat = core_points.reshape(len(core_points), -1).astype(np.float64)
    return np.hstack([flat, np.ones((len(flat), 1))])


def _fit_linear(design: np.ndarray, points: np.ndarray) -> np.ndarray:
    targets = points.reshape(len(points), -1).astype(np.float64)
    weights, *_ = np.linalg.lstsq(design, targets, rcond=None)
    return weights


def _predict_linear(design: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return (design @ weights).reshape(len(design), -1, 2).astype(np.float32)
