"""Face framing: one similarity transform puts a face into a model's input crop.

Training crops and inference crops are made by the same code from the same reference points
(eyes, nose tip, mouth corners in the ``celeba5`` scheme), so a model sees at inference the
framing it was trained on. NumPy and Pillow (facepoints.resample); no torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from facepoints.resample import halved, invert_affine, warp_affine
from facepoints.schemes import convert_points


@dataclass(frozen=True)
class Framing:
    """Where reference points sit in a square crop of ``size`` pixels.

    ``template`` holds the first len(template) celeba5 points (image-left eye, image-right eye,
    nose tip, image-left mouth corner, image-right mouth corner) in crop pixel coordinates."""

    size: int
    template: tuple[tuple[float, float], ...]

    @property
    def num_reference(self) -> int:
        return len(self.template)

    def as_dict(self) -> dict:
        return {"size": self.size, "template": [list(p) for p in self.template]}

    def scaled(self, size: int) -> "Framing":
        """The same framing in a crop of ``size`` pixels: the crop's edges, not its pixel centres, scale."""
        factor = size / self.size
        return Framing(size, tuple(tuple(round((v + 0.5) * factor - 0.5, 4) for v in p) for p in self.template))

    @classmethod
    def from_dict(cls, data: dict) -> "Framing":
        return cls(int(data["size"]), tuple(tuple(float(v) for v in p) for p in data["template"]))


# The Kaggle faces: eye midpoint at (48.3, 37.8), eyes 36 px apart and level.
FKD_FRAMING = Framing(96, ((30.3, 37.8), (66.3, 37.8)))
# Photos: eyes 32 px apart in 128 px, the mean 68-point face centred (measured on faces68 + 300-W),
# with room for the jaw of turned heads.
PHOTO_FRAMING = Framing(128, ((48.0, 36.5), (80.0, 36.5), (64.5, 55.3), (50.8, 71.3), (77.3, 71.3)))


def reference_points(points: np.ndarray, mask: np.ndarray, scheme: str, framing: Framing):
    """(..., P, 2) reference points and (..., P) mask derived from keypoints of any scheme."""
    ref, ref_mask = convert_points(points, mask, scheme, "celeba5")
    return ref[..., : framing.num_reference, :], ref_mask[..., : framing.num_reference]


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares rotation + uniform scale + shift (Umeyama, no reflection) mapping source to target.

    Returns the 2x3 matrix A with target ~= A @ [source; 1]."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    src_mean, dst_mean = source.mean(0), target.mean(0)
    src, dst = source - src_mean, target - dst_mean
    # Complex-number form of the 2-D Procrustes problem: dst ~ z * src.
    src_c, dst_c = src[:, 0] + 1j * src[:, 1], dst[:, 0] + 1j * dst[:, 1]
    z = np.vdot(src_c, dst_c) / max(np.vdot(src_c, src_c).real, 1e-12)
    a, b = z.real, z.imag
    linear = np.array([[a, -b], [b, a]])
    return np.hstack([linear, (dst_mean - linear @ src_mean)[:, None]])


def framing_transform(reference: np.ndarray, framing: Framing) -> np.ndarray:
    """The 2x3 matrix from image pixels to crop pixels for a face's reference points."""
    return similarity_transform(reference, np.asarray(framing.template))


def apply_affine(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(..., 2) points through a 2x3 matrix (pixel centres at integer coordinates)."""
    return (points @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)


def crop_face(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Warp ``image`` (H, W[, C]) uint8 into a size x size crop; outside the photo repeats its edge.

    Large shrinks first halve the photo by area-averaging until the warp itself shrinks by less
    than 2, so the crop is not aliased; only the part of the photo the crop covers is halved, so a
    face in a large photo costs what a face in a small one does."""
    matrix = matrix.astype(np.float64)
    halvings = halvings_before(float(np.sqrt(abs(np.linalg.det(matrix[:, :2])))))
    if halvings:
        factor = 0.5**halvings
        x0, y0, x1, y1 = _footprint(matrix, size, image.shape[1], image.shape[0], margin=2 / factor)
        image = area_halvings(image[y0:y1, x0:x1], halvings)
        # Pixel centres: x_small = (x - x0 + 0.5) * factor - 0.5, undone inside the matrix.
        to_full = np.array([[1 / factor, 0, 0.5 / factor - 0.5 + x0], [0, 1 / factor, 0.5 / factor - 0.5 + y0]])
        matrix = matrix @ np.vstack([to_full, [0, 0, 1]])
    return warp_affine(image, matrix, (size, size))


def halvings_before(scale: float) -> int:
    """How many halvings leave a scaling by ``scale`` (> 0; none for scale > 0.5) a shrink by less than 2."""
    if not scale > 0:
        raise ValueError(f"a shrink by {scale} is not a shrink")
    return max(0, math.floor(math.log2(0.5 / scale)) + 1)


def area_halvings(image: np.ndarray, count: int) -> np.ndarray:
    """``image`` area-averaged to half its size ``count`` times (pixel centres map as
    x / 2 - 0.25 each time; an odd last row or column is left out): exact halvings are much
    faster than an area-averaging resize by another fraction (docs/benchmarks.md)."""
    for _ in range(count):
        image = halved(image)
    return image


def _footprint(matrix: np.ndarray, size: int, width: int, height: int, margin: float) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1: the photo's pixels a crop reads, widened by ``margin`` and clipped to the
    photo; at least ``margin`` wide even when the crop falls beside the photo (it then reads the
    nearest edge, as BORDER_REPLICATE would)."""
    corners = np.array([[-0.5, -0.5], [size - 0.5, -0.5], [-0.5, size - 0.5], [size - 0.5, size - 0.5]])
    seen = apply_affine(corners, invert_affine(matrix))
    low = np.floor(seen.min(0) - margin).astype(int)
    high = np.ceil(seen.max(0) + margin).astype(int) + 1
    least = int(np.ceil(margin))
    bounds = []
    for start, stop, extent in ((low[0], high[0], width), (low[1], high[1], height)):
        span = min(extent, max(stop - start, least))
        start = int(np.clip(start, 0, extent - span))
        bounds.append((start, int(np.clip(stop, start + span, extent))))
    (x0, x1), (y0, y1) = bounds
    return x0, y0, x1, y1
