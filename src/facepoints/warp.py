"""Image resampling in numpy, so finding keypoints needs no OpenCV (a light install).

Each follows OpenCV's own (tests/test_crop.py compares them), so keypoints come out as they did
with OpenCV: ``halved`` and ``resize`` to the bit, ``warp_affine`` all but (source coordinates
in double precision rounded to float32, then float32 interpolation, as OpenCV 5 does; a value in
tens of thousands lands one level off)."""

from __future__ import annotations

import numpy as np


def warp_affine(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int], border: str = "replicate") -> np.ndarray:
    """``image`` (H, W[, C]) sampled bilinearly at ``matrix`` (2x3, image pixel centres -> output
    pixel centres) into ``size`` (width, height). Outside the image: its edge repeated
    (``"replicate"``) or zeros (``"zeros"``). uint8 in, rounded uint8 out; float in, float out."""
    width, height = size
    inverse = _inverse(np.asarray(matrix, np.float64))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    sx = (inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]).astype(np.float32)
    sy = (inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]).astype(np.float32)
    if border == "zeros":  # a ring of zeros, which clipped coordinates then read
        image = np.pad(image, [(1, 1), (1, 1)] + [(0, 0)] * (image.ndim - 2))
        sx, sy = sx + np.float32(1), sy + np.float32(1)
    return _bilinear(image, sx, sy)


def resize(image: np.ndarray, scale: float) -> np.ndarray:
    """uint8 ``image`` shrunk by ``scale`` (< 1; its sides rounded), bilinearly, pixel centres
    mapping as (x + 0.5) * scale - 0.5: OpenCV's INTER_LINEAR resize, to the bit (its fixed-point
    weights of 1/2048 and its vectorised rounding)."""
    height, width = image.shape[:2]
    columns, column_weights = _linear_taps(width, max(1, round(width * scale)), scale)
    rows, row_weights = _linear_taps(height, max(1, round(height * scale)), scale)
    shape = (1, -1) + (1,) * (image.ndim - 2)
    # Across each row (in 1/2048), then down the rows, in OpenCV's integer steps.
    across = np.take(image, columns[0], axis=1).astype(np.int32)
    across *= column_weights[0].reshape(shape)
    right = np.take(image, columns[1], axis=1).astype(np.int32)
    right *= column_weights[1].reshape(shape)
    across += right
    across >>= 4
    shape = (-1,) + (1,) * (image.ndim - 1)
    down = np.take(across, rows[0], axis=0)
    down *= row_weights[0].reshape(shape)
    down >>= 16
    below = np.take(across, rows[1], axis=0)
    below *= row_weights[1].reshape(shape)
    below >>= 16
    down += below + 2
    down >>= 2
    return down.clip(0, 255).astype(np.uint8)


def halved(image: np.ndarray) -> np.ndarray:
    """``image`` at half size, each pixel the rounded mean of a 2x2 block (pixel centres map as
    x / 2 - 0.25; an odd last row or column is left out)."""
    height, width = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    blocks = image[:height, :width].astype(np.uint16 if image.dtype == np.uint8 else np.float32)
    total = blocks[0::2, 0::2] + blocks[1::2, 0::2] + blocks[0::2, 1::2] + blocks[1::2, 1::2]
    return ((total + 2) // 4).astype(np.uint8) if image.dtype == np.uint8 else total / 4


def _linear_taps(source: int, target: int, scale: float) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The two source pixels and their weights (in 1/2048) of each target pixel, as OpenCV computes them."""
    at = ((np.arange(target) + 0.5) * (1.0 / scale) - 0.5).astype(np.float32)
    first = np.floor(at)
    fraction = np.where(first < 0, np.float32(0), at - first).astype(np.float32)
    first = np.maximum(first, 0).astype(np.int64)
    weights = (np.rint((np.float32(1) - fraction) * np.float32(2048)).astype(np.int32),
               np.rint(fraction * np.float32(2048)).astype(np.int32))
    return (np.clip(first, 0, source - 1), np.clip(first + 1, 0, source - 1)), weights


def _inverse(matrix: np.ndarray) -> np.ndarray:
    """The inverse 2x3 transform, computed as OpenCV's invertAffineTransform does."""
    (a, b, c), (d, e, f) = matrix
    det = a * e - b * d
    det = 1.0 / det if det != 0 else 0.0
    a11, a12, a21, a22 = e * det, -b * det, -d * det, a * det
    return np.array([[a11, a12, -a11 * c - a12 * f], [a21, a22, -a21 * c - a22 * f]])


def _bilinear(image: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    x0, y0 = np.floor(sx), np.floor(sy)
    fx, fy = sx - x0, sy - y0
    if image.ndim == 3:
        fx, fy = fx[..., None], fy[..., None]
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    xs = np.clip(x0, 0, width - 1), np.clip(x0 + 1, 0, width - 1)
    ys = np.clip(y0, 0, height - 1) * width, np.clip(y0 + 1, 0, height - 1) * width
    pixels = image.reshape(height * width, -1)  # the four neighbours gathered, then made float: not the whole photo
    corner = [pixels[y + x].reshape(sx.shape + image.shape[2:]).astype(np.float32) for y in ys for x in xs]
    top = corner[0] + fx * (corner[1] - corner[0])
    bottom = corner[2] + fx * (corner[3] - corner[2])
    out = top + fy * (bottom - top)
    return np.rint(out).clip(0, 255).astype(np.uint8) if image.dtype == np.uint8 else out
