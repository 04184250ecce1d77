"""Where each face puts its keypoints, judged by a model that never saw that face's labels.

Kernel ridge regression (Gaussian kernel) from face features to keypoint coordinates, fitted
K times, each time without one fold of groups (duplicates stay together, so a copy cannot vouch
for its own label). NumPy only: 7,000 faces take seconds on two cores.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

FOLDS = 5
RIDGE = 0.3  # relative to the kernel's diagonal of 1; chosen on the FKD set (0.03-1 all work)
MIN_TRAINING_ROWS = 10  # fewer labelled rows and the keypoint gets no prediction in that fold


def fold_of_groups(groups: np.ndarray, folds: int = FOLDS, seed: int = 0) -> np.ndarray:
    """(N,) fold 0..folds-1 of each row; every group lands whole in one fold."""
    _, group_index = np.unique(groups, return_inverse=True)
    order = np.random.default_rng(seed).permutation(group_index.max() + 1)
    return order[group_index.ravel()] % folds


def gaussian_kernel(features: np.ndarray) -> np.ndarray:
    """(N, N) float32 exp(-d^2 / median d^2): the bandwidth follows the data."""
    x = features.astype(np.float32)
    squared = (x * x).sum(axis=1)
    kernel = x @ x.T
    kernel *= -2
    kernel += squared[:, None]
    kernel += squared[None, :]
    np.maximum(kernel, 0, out=kernel)
    kernel /= -max(float(np.median(kernel[::7, ::5])), 1e-12)
    return np.exp(kernel, out=kernel)


def cross_validated_points(
    features: np.ndarray,
    points: np.ndarray,
    mask: np.ndarray,
    fold: np.ndarray,
    on_fold: Callable[[], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(predicted (N, K, 2), known (N, K)): each row's keypoints predicted from other folds."""
    kernel = gaussian_kernel(features)
    predicted = np.zeros(points.shape, np.float32)
    known = np.zeros(mask.shape, bool)
    for f in range(int(fold.max()) + 1):
        test, training = np.flatnonzero(fold == f), fold != f
        solver = _RidgeSolver(kernel, np.flatnonzero(training))
        for keypoints, train in _keypoints_by_training_rows(mask, training):
            targets = points[train][:, keypoints].reshape(len(train), -1)
            mean = targets.mean(axis=0)
            weights = solver.weights(train, targets - mean)
            values = kernel[np.ix_(test, train)] @ weights + mean
            predicted[np.ix_(test, keypoints)] = values.reshape(len(test), -1, 2)
            known[np.ix_(test, keypoints)] = True
        if on_fold:
            on_fold()
    return predicted, known


def _keypoints_by_training_rows(mask: np.ndarray, training: np.ndarray):
    """(keypoints, rows) for each distinct set of training rows that label some keypoints."""
    sets: dict[bytes, list[int]] = {}
    for k in range(mask.shape[1]):
        rows = training & mask[:, k]
        if rows.sum() >= MIN_TRAINING_ROWS:
            sets.setdefault(rows.tobytes(), []).append(k)
    for key, keypoints in sets.items():
        yield keypoints, np.flatnonzero(np.frombuffer(key, dtype=bool))


class _RidgeSolver:
    """Kernel ridge weights (K_SS + ridge I)^-1 y for many row subsets S of one fold's rows U.

    Keypoints labelled on the same rows share one solve. Subsets that leave out only a few rows
    of U (FKD's core keypoints: each misses a different handful) share one inverse B of the whole
    system instead: with R = U - S, (A_SS)^-1 = B_SS - B_SR (B_RR)^-1 B_RS, so each costs a few
    matrix-vector products rather than a fresh cubic solve."""

    def __init__(self, kernel: np.ndarray, rows: np.ndarray):
        self.kernel, self.rows, self._inverse = kernel, rows, None

    def weights(self, train: np.ndarray, targets: np.ndarray) -> np.ndarray:
        left_out = len(self.rows) - len(train)
        if left_out > len(train) // 4:
            return np.linalg.solve(self._system(train), targets.astype(np.float32))
        if self._inverse is None:
            self._inverse = np.linalg.inv(self._system(self.rows))
        inside = np.isin(self.rows, train)
        kept, dropped = np.flatnonzero(inside), np.flatnonzero(~inside)
        weights = self._inverse[np.ix_(kept, kept)] @ targets
        if len(dropped):
            cross = self._inverse[np.ix_(dropped, kept)]
            weights -= cross.T @ np.linalg.solve(self._inverse[np.ix_(dropped, dropped)], cross @ targets)
        return weights

    def _system(self, rows: np.ndarray) -> np.ndarray:
        system = self.kernel[np.ix_(rows, rows)]
        system[np.diag_indices_from(system)] += RIDGE
        return system
