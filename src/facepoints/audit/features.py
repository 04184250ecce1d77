"""Grey working copies of the faces and the gradient features every check compares them by.

All checks look at a 96x96 grey copy, so their thresholds mean the same on the Kaggle 96 px
faces and on 128 px colour crops of photo sets.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

WORKING_SIDE = 96
CELL = 8
ORIENTATIONS = 9
_CHUNK = 512  # images per step: bounds the per-pixel temporaries to about 200 MB


def working_images(images: np.ndarray) -> np.ndarray:
    """(N, 96, 96) float32 grey copies of (N, H, W) or (N, H, W, C) uint8 images."""
    grey = images if images.ndim == 3 else images.mean(axis=3).round().astype(np.uint8)
    if grey.shape[1:] == (WORKING_SIDE, WORKING_SIDE):
        return grey.astype(np.float32)
    side = (WORKING_SIDE, WORKING_SIDE)
    return np.stack([np.asarray(Image.fromarray(g).resize(side, Image.BOX), np.float32) for g in grey])


def working_scale(images: np.ndarray) -> np.ndarray:
    """(sx, sy): multiply image pixels by this to get working-copy pixels."""
    height, width = images.shape[1:3]
    return np.array([WORKING_SIDE / width, WORKING_SIDE / height], dtype=np.float32)


def gradient_histograms(grey: np.ndarray) -> np.ndarray:
    """(N, 12, 12, 9) sums of gradient magnitude by orientation over 8x8 cells (HOG cells).

    Each pixel's magnitude is split between the two nearest of 9 unsigned orientations."""
    n, height, width = grey.shape
    rows, cols = height // CELL, width // CELL
    cell_of_pixel = ((np.arange(height) // CELL).clip(max=rows - 1)[:, None] * cols
                     + (np.arange(width) // CELL).clip(max=cols - 1)[None, :]).ravel()
    out = np.empty((n, rows, cols, ORIENTATIONS), np.float32)
    for start in range(0, n, _CHUNK):
        x = grey[start:start + _CHUNK]
        m = len(x)
        gx = np.zeros_like(x)
        gy = np.zeros_like(x)
        gx[:, :, 1:-1] = x[:, :, 2:] - x[:, :, :-2]
        gy[:, 1:-1, :] = x[:, 2:, :] - x[:, :-2, :]
        magnitude = np.hypot(gx, gy).reshape(m, -1)
        angle = (np.arctan2(gy, gx).reshape(m, -1) % np.pi) * (ORIENTATIONS / np.pi)
        lower = np.floor(angle)
        upper_share = angle - lower
        lower = lower.astype(np.int64) % ORIENTATIONS
        base = (np.arange(m)[:, None] * (rows * cols) + cell_of_pixel[None, :]) * ORIENTATIONS
        size = m * rows * cols * ORIENTATIONS
        sums = np.bincount((base + lower).ravel(), (magnitude * (1 - upper_share)).ravel(), size)
        sums += np.bincount((base + (lower + 1) % ORIENTATIONS).ravel(), (magnitude * upper_share).ravel(), size)
        out[start:start + m] = sums.reshape(m, rows, cols, ORIENTATIONS)
    return out


def face_features(grey: np.ndarray) -> np.ndarray:
    """(N, 1296) square-rooted HOG cells, each face scaled to unit length so contrast cancels."""
    features = np.sqrt(gradient_histograms(grey).reshape(len(grey), -1))
    return features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-6)
