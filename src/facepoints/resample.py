"""Image resampling on Pillow's C code, so finding keypoints needs no OpenCV (the light install);
where OpenCV is installed (``facepoints[fast]``), the same resampling on OpenCV, several times faster.

Pixel centres sit at integer coordinates, as in OpenCV: a 2x3 ``matrix`` maps source pixel
centres to output pixel centres. ``halved`` matches OpenCV's area-averaging halving to the bit;
``warp_affine`` samples where ``cv2.warpAffine`` does, to within one grey level: Pillow
interpolates in floating point where OpenCV rounds positions to 1/32 pixel, and it truncates
8-bit values where OpenCV rounds them (float images come out as OpenCV's). ``shrunk`` averages
areas in Pillow, where OpenCV interpolates bilinearly: a little more blur, no shift.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

try:
    import cv2
except ImportError:  # the light install
    cv2 = None


def halved(image: np.ndarray) -> np.ndarray:
    """uint8 ``image`` (H, W[, C]) at half size, each pixel the rounded mean of a 2x2 block (pixel
    centres map as x / 2 - 0.25; an odd last row or column is left out)."""
    even = image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2]
    if cv2 is not None:
        return cv2.resize(even, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return np.asarray(_pillow(even).reduce(2))


def shrunk(image: np.ndarray, scale: float) -> np.ndarray:
    """uint8 ``image`` resized by ``scale``, sides rounded to whole pixels: pixel centres map as
    (x + 0.5) * s - 0.5 where s is the new side over the old, along each axis."""
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if cv2 is not None:
        return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    return np.asarray(_pillow(image).resize(size, Image.Resampling.BOX))  # area-averaging: Pillow's fastest unaliased shrink


def warp_affine(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int], border: str = "replicate") -> np.ndarray:
    """``image`` (H, W[, C]; uint8, or float32 of any channels) sampled bilinearly through
    ``matrix`` into ``size`` (width, height). Outside the image: its edge repeated
    (``"replicate"``) or zeros (``"zeros"``), as OpenCV's BORDER_REPLICATE and BORDER_CONSTANT.

    Only the pixels the warp reads are cut out (edges repeated or zeroed beyond the image), so a
    crop from a large photo costs what one from a small photo does."""
    if cv2 is not None:
        return cv2.warpAffine(image, np.asarray(matrix, np.float64), size, flags=cv2.INTER_LINEAR, borderValue=0,
                              borderMode=cv2.BORDER_REPLICATE if border == "replicate" else cv2.BORDER_CONSTANT)
    inverse = invert_affine(np.asarray(matrix, np.float64))
    width, height = size
    corners = np.array([[-1, -1], [width, -1], [-1, height], [width, height]], np.float64)
    seen = corners @ inverse[:, :2].T + inverse[:, 2]
    (x0, y0), (x1, y1) = np.floor(seen.min(0)).astype(int) - 1, np.ceil(seen.max(0)).astype(int) + 2
    region, origin = _cut(image, x0, y0, x1, y1, "edge" if border == "replicate" else "constant")
    coefficients = _pillow_coefficients(inverse, origin)
    if region.dtype == np.uint8:
        return np.asarray(_pillow(region).transform(size, Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR))
    planes = region.reshape(region.shape[:2] + (-1,)).astype(np.float32)
    warped = [np.asarray(Image.fromarray(np.ascontiguousarray(planes[..., c]), "F").transform(
        size, Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR)) for c in range(planes.shape[-1])]
    return np.stack(warped, -1) if image.ndim == 3 else warped[0]


def _cut(image: np.ndarray, x0: int, y0: int, x1: int, y1: int, mode: str) -> tuple[np.ndarray, tuple[int, int]]:
    """The pixels of ``image`` over x0..x1, y0..y1 (padded beyond it with ``np.pad``'s ``mode``),
    and where the cut starts in the image's coordinates."""
    spans = []
    for start, stop, extent in ((x0, x1, image.shape[1]), (y0, y1, image.shape[0])):
        first = min(max(start, 0), extent - 1)
        last = min(max(stop, first + 1), extent)
        spans.append((first, last, max(0, first - start), max(0, stop - last)))
    (left, right, pad_left, pad_right), (top, bottom, pad_top, pad_bottom) = spans
    region = image[top:bottom, left:right]
    if pad_left or pad_right or pad_top or pad_bottom:
        widths = [(pad_top, pad_bottom), (pad_left, pad_right)] + [(0, 0)] * (image.ndim - 2)
        region = np.pad(region, widths, mode=mode)
    return np.ascontiguousarray(region), (left - pad_left, top - pad_top)


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """The 2x3 matrix that undoes ``matrix``."""
    linear = np.linalg.inv(matrix[:, :2])
    return np.hstack([linear, -(linear @ matrix[:, 2:])])


def _pillow_coefficients(inverse: np.ndarray, origin: tuple[int, int]) -> tuple[float, ...]:
    """Pillow's affine data for a source cut at ``origin``: output continuous coordinates to
    source ones, pixel centres at +0.5 on both sides."""
    offset = inverse[:, 2] - origin + 0.5 - inverse[:, :2] @ (0.5, 0.5)
    return tuple(np.hstack([inverse[:, :2], offset[:, None]]).ravel().tolist())


def _pillow(image: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(image))
