"""How unusual a keypoint's label is, given the face's model prediction and its other labels.

The offsets label - prediction of one face move together: a model that misjudges a turned head
misplaces the nose, eyes and mouth alike. A robust Gaussian over all offsets (pairwise-complete
moments, outlying faces down-weighted) turns that into a test per keypoint: its offset against
what the face's other offsets lead one to expect. What is left, in pixels, is how far the label
lies from where the face puts it; divided by its spread, it is a z-score.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ROBUST_ITERATIONS = 3
HUBER_LIMIT = 9.0  # faces whose mean squared offset exceeds 9 sigma^2 per coordinate count less


@dataclass
class OffsetModel:
    mean: np.ndarray  # (2K,)
    covariance: np.ndarray  # (2K, 2K)
    _precisions: dict = field(default_factory=dict, repr=False)

    def precision(self, labelled: np.ndarray) -> np.ndarray:
        """Inverse covariance of the coordinates of the labelled keypoints (a (K,) bool pattern)."""
        key = labelled.tobytes()
        if key not in self._precisions:
            coordinates = np.repeat(labelled, 2)
            values, vectors = np.linalg.eigh(self.covariance[np.ix_(coordinates, coordinates)])
            values = np.maximum(values, values.max() * 1e-4)
            self._precisions[key] = (vectors / values) @ vectors.T
        return self._precisions[key]

    def centred(self, offsets: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(N, 2K) offsets minus the mean, 0 where unlabelled."""
        flat = offsets.reshape(len(offsets), -1) - self.mean
        return np.where(np.repeat(mask, 2, axis=1), flat, 0.0)

    def mean_squared_distance(self, offsets: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(N,) Mahalanobis distance squared per labelled coordinate: about 1 for a typical face."""
        result = np.zeros(len(offsets))
        centred = self.centred(offsets, mask)
        for pattern, rows in by_pattern(mask):
            if pattern.sum():
                values = centred[rows][:, np.repeat(pattern, 2)]
                result[rows] = np.einsum("ni,ij,nj->n", values, self.precision(pattern), values) / (2 * pattern.sum())
        return result


def by_pattern(mask: np.ndarray):
    """(pattern, rows) for each distinct row of mask."""
    patterns, inverse = np.unique(mask, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    for index, pattern in enumerate(patterns):
        yield pattern, np.flatnonzero(inverse == index)


def fit_offset_model(offsets: np.ndarray, mask: np.ndarray) -> OffsetModel:
    """Robust mean and covariance of (N, K, 2) offsets where mask (N, K) says they are known."""
    n, k, _ = offsets.shape
    known = np.repeat(mask, 2, axis=1).astype(np.float64)
    flat = np.where(known > 0, offsets.reshape(n, -1), 0.0).astype(np.float64)
    weights = np.ones(n)
    model = None
    for _ in range(ROBUST_ITERATIONS):
        weighted_known = known * weights[:, None]
        mean = (flat * weighted_known).sum(0) / np.maximum(weighted_known.sum(0), 1e-9)
        centred = np.where(known > 0, flat - mean, 0.0)
        counts = weighted_known.T @ known
        covariance = (centred * weights[:, None]).T @ centred / np.maximum(counts, 1e-9)
        covariance += np.eye(2 * k) * 1e-3
        model = OffsetModel(mean, covariance)
        weights = np.minimum(1.0, HUBER_LIMIT / np.maximum(model.mean_squared_distance(offsets, mask), 1e-9))
    return model


@dataclass
class Disagreement:
    z: np.ndarray  # (N, K): keypoint offset against the face's other offsets, in standard deviations
    pair_z: np.ndarray  # (N, P): the same test for both keypoints of each flip pair at once


def disagreement(model: OffsetModel, offsets: np.ndarray, mask: np.ndarray,
                 pairs: tuple[tuple[int, int], ...]) -> Disagreement:
    """Leave-one-keypoint-out tests of every labelled keypoint (and flip pair) of every face."""
    n, k, _ = offsets.shape
    z = np.full((n, k), np.nan)
    pair_z = np.full((n, len(pairs)), np.nan)
    centred = model.centred(offsets, mask)
    for pattern, rows in by_pattern(mask):
        if pattern.sum() < 2:
            continue
        labelled = np.flatnonzero(pattern)
        precision = model.precision(pattern)
        gradient = centred[rows][:, np.repeat(pattern, 2)] @ precision
        for j, keypoint in enumerate(labelled):
            block = slice(2 * j, 2 * j + 2)
            z[rows, keypoint] = _left_out(gradient[:, block], precision[block, block])[0]
        position = {keypoint: j for j, keypoint in enumerate(labelled)}
        for p, (a, b) in enumerate(pairs):
            if a in position and b in position:
                block = [2 * position[a], 2 * position[a] + 1, 2 * position[b], 2 * position[b] + 1]
                distance, _ = _left_out(gradient[:, block], precision[np.ix_(block, block)])
                pair_z[rows, p] = _pair_as_single(distance)
    return Disagreement(z, pair_z)


def left_out_given(model: OffsetModel, offsets: np.ndarray, given: np.ndarray, keypoint: int) -> tuple[float, np.ndarray]:
    """z and miss (label minus expected) of one keypoint of one face from only the `given`
    keypoints' (K,) offsets: a label already known to be wrong then misleads no other."""
    pattern = given.copy()
    pattern[keypoint] = True
    precision = model.precision(pattern)
    gradient = model.centred(offsets[None], pattern[None])[:, np.repeat(pattern, 2)] @ precision
    block = slice(2 * int(pattern[:keypoint].sum()), 2 * int(pattern[:keypoint].sum()) + 2)
    z, miss = _left_out(gradient[:, block], precision[block, block])
    return float(z[0]), miss[0]


def _left_out(gradient: np.ndarray, precision_block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mahalanobis distance and residual of some coordinates given all the others.

    With precision L and centred offsets e, the residual of block b given the rest is
    L_bb^-1 (L e)_b and its squared Mahalanobis distance (L e)_b' L_bb^-1 (L e)_b."""
    inverse = np.linalg.inv(precision_block)
    residual = gradient @ inverse.T
    return np.sqrt(np.maximum((residual * gradient).sum(axis=1), 0)), residual


def _pair_as_single(distance: np.ndarray) -> np.ndarray:
    """A pair's distance (4 coordinates) as the single keypoint's distance (2) that is as rare,
    so both read on one scale: chi-square tails e^(-x/2)(1 + x/2) = e^(-y/2)."""
    squared = distance ** 2
    return np.sqrt(np.maximum(squared - 2 * np.log1p(squared / 2), 0))
