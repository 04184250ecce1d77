"""PNG pictures of runs and predictions (matplotlib, no display needed)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from facepoints.fileio import atomic_path  # noqa: E402


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _read_metrics(path: Path) -> dict[str, list[tuple[int, float]]]:
    series: dict[str, list[tuple[int, float]]] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            for key, value in row.items():
                if key not in ("epoch", "step") and value not in ("", None):
                    series.setdefault(key, []).append((int(row["epoch"]), float(value)))
    return series


def learning_curves(metrics_files: list[Path], path: Path) -> Path:
    """Training loss and validation RMSE per epoch, one line per training stage."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for metrics in metrics_files:
        label = metrics.parent.name
        series = _read_metrics(metrics)
        for ax, key in zip(axes, ("train_loss", "val_rmse")):
            if key in series:
                epochs, values = zip(*series[key])
                ax.plot(epochs, values, label=label)
    for ax, title in zip(axes, ("training loss", "validation RMSE (px)")):
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    if len(metrics_files) > 1:
        axes[1].legend(fontsize=7)
    return _save(fig, path)


def keypoint_grid(images: np.ndarray, predictions: np.ndarray, targets: np.ndarray, masks: np.ndarray,
                  titles: list[str], path: Path, columns: int = 6) -> Path:
    """Faces with labels (green) and predictions (red), e.g. the worst predictions of a model."""
    n = len(images)
    rows = max(1, math.ceil(n / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, pred, target, mask, title in zip(axes.flat, images, predictions, targets, masks, titles):
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
        ax.scatter(target[mask, 0], target[mask, 1], s=9, c="lime", marker="o", linewidths=0)
        ax.scatter(pred[:, 0], pred[:, 1], s=9, c="red", marker="x", linewidths=1)
        ax.set_title(title, fontsize=7)
    return _save(fig, path)


def ced_plot(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path) -> Path:
    """Cumulative error distribution curves, one per model; past the ten colours of matplotlib's
    cycle the line style changes, so no two curves look alike."""
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for index, (label, (thresholds, fractions)) in enumerate(curves.items()):
        ax.plot(thresholds, fractions, label=label, color=f"C{index % 10}", linestyle=("-", "--", ":")[index // 10 % 3])
    ax.set_xlabel("NME")
    ax.set_ylabel("share of faces")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path)
