"""Accuracy metrics on (N, K, 2) predictions against labelled points. NumPy only, no torch."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from facepoints.schemes import Scheme

# Keypoint pairs whose distance normalises NME: outer eye corners for ibug68 (as MMPose and
# 300-W report it); eye centres where a scheme has no reliably labelled corners.
NORMALISING_PAIRS = {"ibug68": (36, 45), "fkd15": (0, 1), "celeba5": (0, 1)}
FAILURE_NME = 0.08


@dataclass
class Scores:
    rmse: float  # Kaggle's formula: root of the mean squared error over labelled coordinates
    percentage_error: float  # seed 003's: each coordinate's RMSE over its mean, times 100, averaged
    mae: float  # mean absolute error over labelled coordinates
    nme: float  # mean over faces of (mean point distance / normalising distance)
    failure_rate: float  # share of faces with NME above FAILURE_NME
    count: int  # labelled coordinates scored
    per_keypoint_rmse: dict[str, float]

    def as_dict(self) -> dict:
        return asdict(self)


def _check(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> None:
    if pred.shape != target.shape or mask.shape != target.shape[:2]:
        raise ValueError(f"shape mismatch: pred {pred.shape}, target {target.shape}, mask {mask.shape}")


def kaggle_rmse(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """RMSE over every labelled x and y coordinate, as the Kaggle leaderboard scores it."""
    _check(pred, target, mask)
    squared = (pred - target) ** 2
    return float(np.sqrt(squared[mask].mean()))


def per_image_nme(pred: np.ndarray, target: np.ndarray, mask: np.ndarray, scheme: Scheme) -> np.ndarray:
    """(N,) mean labelled-point distance over the normalising distance; NaN where it is unknown."""
    if scheme.name in NORMALISING_PAIRS:
        a, b = ((i,) for i in NORMALISING_PAIRS[scheme.name])
    elif scheme.reference:
        a, b = scheme.reference[:2]
    else:
        return np.full(len(target), np.nan)
    a, b = list(a), list(b)
    norm = np.linalg.norm(target[:, a].mean(1) - target[:, b].mean(1), axis=-1)
    norm = np.where(mask[:, a].all(1) & mask[:, b].all(1) & (norm > 0), norm, np.nan)
    dist = np.linalg.norm(pred - target, axis=-1)
    counts = mask.sum(1)
    mean_dist = np.where(counts > 0, (dist * mask).sum(1) / np.maximum(counts, 1), np.nan)
    return mean_dist / norm


def per_image_error(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(N,) RMSE of each image's labelled coordinates: the ranking for 'worst predictions'."""
    squared = ((pred - target) ** 2).sum(-1)
    counts = np.maximum(mask.sum(1), 1)
    return np.sqrt((squared * mask).sum(1) / (2 * counts))


def score(pred: np.ndarray, target: np.ndarray, mask: np.ndarray, scheme: Scheme) -> Scores:
    _check(pred, target, mask)
    errors = pred - target
    per_kp = {
        name: float(np.sqrt((errors[mask[:, k], k] ** 2).mean())) if mask[:, k].any() else float("nan")
        for k, name in enumerate(scheme.names)
    }
    nme = per_image_nme(pred, target, mask, scheme)
    nme = nme[np.isfinite(nme)]
    return Scores(
        rmse=kaggle_rmse(pred, target, mask),
        percentage_error=percentage_error(pred, target, mask),
        mae=float(np.abs(errors[mask]).mean()),
        nme=float(nme.mean()) if nme.size else float("nan"),
        failure_rate=float((nme > FAILURE_NME).mean()) if nme.size else float("nan"),
        count=int(mask.sum() * 2),
        per_keypoint_rmse=per_kp,
    )


def percentage_error(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Seed 003's error: the mean over x and y of every point of (its RMSE / its mean) * 100.

    It depends on where the origin is (a coordinate's mean is its distance from it), so it compares
    models on the same crops only; NME does not."""
    _check(pred, target, mask)
    labelled = mask[..., None].repeat(2, -1)
    counts = labelled.sum(0)
    rmse = np.sqrt(np.where(labelled, (pred - target) ** 2, 0).sum(0) / np.maximum(counts, 1))
    mean = np.where(labelled, target, 0).sum(0) / np.maximum(counts, 1)
    valid = (counts > 0) & (np.abs(mean) > 0)
    return float((100 * rmse[valid] / np.abs(mean[valid])).mean()) if valid.any() else float("nan")


def mean_benchmark(train_points: np.ndarray, train_mask: np.ndarray, count: int) -> np.ndarray:
    """Seed 003's benchmark: each coordinate's training mean predicted for ``count`` faces."""
    labelled = train_mask[..., None]
    mean = np.where(labelled, train_points, 0).sum(0) / np.maximum(labelled.sum(0), 1)
    return np.broadcast_to(mean.astype(np.float32), (count, *mean.shape)).copy()


def ced_curve(nme: np.ndarray, max_nme: float = 0.15, steps: int = 151) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative error distribution: share of faces with NME at or below each threshold."""
    thresholds = np.linspace(0.0, max_nme, steps)
    nme = nme[np.isfinite(nme)]
    return thresholds, (nme[None, :] <= thresholds[:, None]).mean(1)
