"""A picture placed on a face: an RGBA image plus an anchor file saying where the face goes on it.

Anchor file (JSON, beside the picture):

    {"image": "moustache.png",
     "eyes": [[68, -300], [292, -300]],
     "anchor": {"point": ["nose", "mouth"], "at": [180, 62]}}

``eyes`` are where the face's two eye centres (image-left first) fall in the picture's pixels:
the eye line sets the picture's angle and width. ``anchor`` (optional) pins one face point, or
the mean of several, to the picture pixel ``at``; without it the eyes' midpoint is pinned. Face
points: lefteye, righteye, nose, leftmouth, rightmouth (celeba5, image sides), eyes, mouth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facepoints.errors import DataError
from facepoints.imageio import read_image_rgba
from facepoints.resample import warp_affine
from facepoints.schemes import convert_points

# Derived points: the mean of these celeba5 points.
DERIVED_POINTS = {"eyes": ("lefteye", "righteye"), "mouth": ("leftmouth", "rightmouth")}
CELEBA5_NAMES = ("lefteye", "righteye", "nose", "leftmouth", "rightmouth")
POINT_NAMES = CELEBA5_NAMES + tuple(DERIVED_POINTS)


@dataclass(frozen=True)
class Sticker:
    name: str
    premultiplied: np.ndarray  # (H, W, 4) float32: RGB already multiplied by alpha, alpha in 0..1
    eyes: np.ndarray  # (2, 2) picture pixels of the image-left and image-right eye centres
    anchor_points: tuple[str, ...]  # face points whose mean is pinned to anchor_at
    anchor_at: np.ndarray  # (2,) picture pixel

    def placement(self, face_points: dict[str, np.ndarray]) -> np.ndarray:
        """2x3 matrix from picture pixels to image pixels for one face."""
        face_eyes = np.stack([face_points["lefteye"], face_points["righteye"]])
        picture_line, face_line = self.eyes[1] - self.eyes[0], face_eyes[1] - face_eyes[0]
        z = complex(*face_line) / complex(*picture_line)  # rotation and scale in one number
        linear = np.array([[z.real, -z.imag], [z.imag, z.real]])
        target = np.mean([face_points[p] for p in self.anchor_points], axis=0)
        return np.hstack([linear, (target - linear @ self.anchor_at)[:, None]])

    def paste(self, image: np.ndarray, matrix: np.ndarray) -> None:
        """Alpha-blend the placed picture into ``image`` (RGB uint8, changed in place), clipped at its borders."""
        h, w = self.premultiplied.shape[:2]
        # The picture's pixel centres run 0..w-1; a pixel beyond each edge takes in the blended rim.
        corners = np.array([[-1, -1, 1], [w, -1, 1], [-1, h, 1], [w, h, 1]], np.float64) @ matrix.T
        x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int), [image.shape[1], image.shape[0]])
        if x1 <= x0 or y1 <= y0:
            return  # wholly outside the image
        shifted = matrix.copy()
        shifted[:, 2] -= (x0, y0)  # both sides in pixel-centre coordinates, as warp_affine takes them
        warped = warp_affine(self.premultiplied, shifted, (x1 - x0, y1 - y0), border="zeros")
        region = image[y0:y1, x0:x1].astype(np.float32)
        alpha = warped[..., 3:]
        image[y0:y1, x0:x1] = (region * (1.0 - alpha) + warped[..., :3]).clip(0, 255).round().astype(np.uint8)


def face_points(keypoints: np.ndarray, scheme: str) -> dict[str, np.ndarray]:
    """Named placement points (celeba5 and derived) from a face's keypoints in any scheme."""
    five, _ = convert_points(keypoints, np.ones(len(keypoints), bool), scheme, "celeba5")
    points = dict(zip(CELEBA5_NAMES, five.astype(np.float64)))
    for name, members in DERIVED_POINTS.items():
        points[name] = np.mean([points[m] for m in members], axis=0)
    return points


def load_sticker(anchor_file: str | Path) -> Sticker:
    """Read an anchor JSON and its picture; any problem is one line naming the file."""
    path = Path(anchor_file)
    try:
        spec = json.loads(path.read_text())
        picture = path.parent / spec["image"]
        eyes = np.asarray(spec["eyes"], np.float64)
        anchor = spec.get("anchor", {"point": "eyes", "at": eyes.mean(0).tolist()})
        point = anchor["point"]
        points = (point,) if isinstance(point, str) else tuple(point)
        at = np.asarray(anchor["at"], np.float64)
    except FileNotFoundError:
        raise DataError(path, "filter anchor file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(path, f"not a JSON anchor file ({e})") from None
    except RecursionError:
        raise DataError(path, "not a JSON anchor file (nested too deeply)") from None
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(path, "anchor file needs \"image\", \"eyes\" [[x, y], [x, y]] and optionally "
                        f"\"anchor\" {{\"point\", \"at\"}} ({type(e).__name__}: {e})") from None
    if eyes.shape != (2, 2) or at.shape != (2,) or not np.isfinite(eyes).all() or not np.isfinite(at).all():
        raise DataError(path, "\"eyes\" must be two [x, y] points and \"anchor.at\" one")
    if np.allclose(eyes[0], eyes[1]):
        raise DataError(path, "the two \"eyes\" points must differ")
    unknown = [p for p in points if p not in POINT_NAMES]
    if unknown or not points:
        raise DataError(path, f"unknown anchor point {unknown or point!r}; use {', '.join(POINT_NAMES)}")
    rgba = read_image_rgba(picture).astype(np.float32)
    alpha = rgba[..., 3:] / 255.0
    premultiplied = np.concatenate([rgba[..., :3] * alpha, alpha], axis=-1)
    return Sticker(path.stem, np.ascontiguousarray(premultiplied), eyes, points, at)
