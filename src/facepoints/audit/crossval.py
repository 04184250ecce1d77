"""Where each face puts its keypoints, judged by a model that never saw that face's labels.

Kernel ridge regression (Gaussian kernel) from face features to keypoint coordinates, fitted
K times, each time without one fold of groups (duplicates stay together, so a copy cannot vouch
for its own label). NumPy only, on the CPU.
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
        for keypoints, train, weights, mean in _fold_weights(kernel, training, mask, points):
            values = kernel[np.ix_(test, train)] @ weights + mean
            predicted[np.ix_(test, keypoints)] = values.reshape(len(test), -1, 2)
            known[np.ix_(test, keypoints)] = True
        if on_fold:
            on_fold()
    return predicted, known


def _fold_weights(kernel: np.ndarray, training: np.ndarray, mask: np.ndarray, points: np.ndarray):
    """(keypoints, training rows, kernel ridge weights, target mean) for one fold.

    Keypoints labelled on the same rows share one solve. Row sets that miss only a few of the
    fold's rows U (FKD's core keypoints: each misses a different handful) share one solve with
    the whole system A = K_UU + ridge I: with B = A^-1 and R = U - S the rows a set misses,
    (A_SS)^-1 y = (B y0)_S - B_SR (B_RR)^-1 (B y0)_R, where y0 is y with zeros on R, and B y0
    and the columns B_{:,R} come from one right-hand side each."""
    rows = np.flatnonzero(training)
    shared = []
    for keypoints, train in _keypoints_by_training_rows(mask, training):
        if len(rows) - len(train) <= len(train) // 4:
            shared.append((keypoints, train))
        else:
            targets, mean = _centred_targets(points, train, keypoints)
            yield keypoints, train, np.linalg.solve(_system(kernel, train), targets), mean
    if not shared:
        return
    dropped = np.unique(np.concatenate([np.setdiff1d(rows, t) for _, t in shared]))
    unit = np.zeros((len(rows), len(dropped)), np.float32)
    unit[np.searchsorted(rows, dropped), np.arange(len(dropped))] = 1
    right_sides, means = [unit], []
    for keypoints, train in shared:
        targets, mean = _centred_targets(points, train, keypoints)
        padded = np.zeros((len(rows), targets.shape[1]), np.float32)
        padded[np.searchsorted(rows, train)] = targets
        right_sides.append(padded)
        means.append(mean)
    solved = np.linalg.solve(_system(kernel, rows), np.hstack(right_sides))
    column = len(dropped)
    for (keypoints, train), mean in zip(shared, means):
        width = 2 * len(keypoints)
        z = solved[:, column:column + width]
        column += width
        inside = np.isin(rows, train)
        missed = np.isin(dropped, rows[~inside])
        g = solved[:, :len(dropped)][:, missed]
        weights = z[inside]
        if missed.any():
            weights = weights - g[inside] @ np.linalg.solve(g[~inside], z[~inside])
        yield keypoints, train, weights, mean


def _centred_targets(points: np.ndarray, train: np.ndarray, keypoints: list[int]):
    targets = points[train][:, keypoints].reshape(len(train), -1).astype(np.float32)
    mean = targets.mean(axis=0)
    return targets - mean, mean


def _system(kernel: np.ndarray, rows: np.ndarray) -> np.ndarray:
    system = kernel[np.ix_(rows, rows)]
    system[np.diag_indices_from(system)] += RIDGE
    return system


def _keypoints_by_training_rows(mask: np.ndarray, training: np.ndarray):
    """(keypoints, rows) for each distinct set of training rows that label some keypoints."""
    sets: dict[bytes, list[int]] = {}
    for k in range(mask.shape[1]):
        rows = training & mask[:, k]
        if rows.sum() >= MIN_TRAINING_ROWS:
            sets.setdefault(rows.tobytes(), []).append(k)
    for key, keypoints in sets.items():
        yield keypoints, np.flatnonzero(np.frombuffer(key, dtype=bool))
