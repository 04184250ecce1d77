"""The audit report's figures, as PNG bytes (matplotlib, no display, no fonts fetched)."""

from __future__ import annotations

import io
import math
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402

from facepoints.audit.missing import MissingStats  # noqa: E402

MAX_HEATMAP_ROWS = 800  # rows drawn in the missing-value heatmap; more are sampled evenly


def png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def missing_heatmap(mask: np.ndarray, stats: MissingStats) -> bytes:
    """Rows (grouped by pattern, most common first) by keypoints; dark = missing."""
    order = np.concatenate([np.flatnonzero((mask == p.labelled).all(axis=1)) for p in stats.patterns])
    if len(order) > MAX_HEATMAP_ROWS:
        order = order[np.linspace(0, len(order) - 1, MAX_HEATMAP_ROWS).astype(int)]
    fig, ax = plt.subplots(figsize=(0.28 * len(stats.names) + 1.5, 4.2))
    ax.imshow(mask[order], aspect="auto", cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks(range(len(stats.names)))
    ax.set_xticklabels(stats.names, rotation=90, fontsize=6)
    ax.set_ylabel(f"rows, by pattern ({len(order)} of {len(mask)} drawn)")
    ax.set_yticks([])
    ax.set_title("labelled (white) and missing (black) keypoints", fontsize=9)
    return png(fig)


def mean_face(images: np.ndarray, points: np.ndarray, mask: np.ndarray) -> bytes:
    """The mean picture with each keypoint's mean position and 2-SD ellipse over labelled rows."""
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.imshow(images.mean(axis=0).astype(np.uint8), cmap="gray" if images.ndim == 3 else None)
    for k in range(points.shape[1]):
        labelled = points[mask[:, k], k]
        if len(labelled) < 3:
            continue
        centre = labelled.mean(axis=0)
        values, vectors = np.linalg.eigh(np.cov(labelled.T))
        angle = math.degrees(math.atan2(vectors[1, 1], vectors[0, 1]))
        width, height = 4 * np.sqrt(np.maximum(values[::-1], 0))
        ax.add_patch(Ellipse(centre, width, height, angle=angle, fill=False, color="orange", lw=0.8))
        ax.plot(*centre, "o", color="lime", ms=2.5)
        if points.shape[1] <= 30:
            ax.annotate(str(k), centre, xytext=(3, 3), textcoords="offset points", color="yellow", fontsize=6)
    ax.axis("off")
    return png(fig)


def face_grid(images: np.ndarray, titles: list[str], points: np.ndarray | None = None,
              mask: np.ndarray | None = None, expected: np.ndarray | None = None,
              ringed: np.ndarray | None = None, columns: int = 6) -> bytes:
    """Faces in a grid, optionally with labels (green), some of them ringed red, and where the face
    puts those (cyan crosses)."""
    rows = max(1, math.ceil(len(images) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.3 * columns, 2.75 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (ax, image, title) in enumerate(zip(axes.flat, images, titles)):
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
        if points is not None:
            labelled = mask[i]
            ax.scatter(points[i, labelled, 0], points[i, labelled, 1], s=8, c="lime", linewidths=0)
            ring = labelled & ringed[i]
            ax.scatter(points[i, ring, 0], points[i, ring, 1], s=60, facecolors="none", edgecolors="red", linewidths=1)
            ax.scatter(expected[i, ring, 0], expected[i, ring, 1], s=30, c="cyan", marker="x", linewidths=1)
        ax.set_title("\n".join(textwrap.wrap(title, 34)[:4]), fontsize=6.5)
    return png(fig)
