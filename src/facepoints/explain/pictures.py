"""Pictures of explanations: heat over the model's own view of the face (the crop), RGB uint8.

Each map is scaled to its own maximum: the picture shows where, the numbers in explain.json and
the occlusion titles say how much."""

from __future__ import annotations

import math

import cv2
import numpy as np

LABEL_HEIGHT = 20
GAP = 4
FONT = cv2.FONT_HERSHEY_SIMPLEX


def heat_over(crop: np.ndarray, heat: np.ndarray, size: int, point: np.ndarray | None = None) -> np.ndarray:
    """The crop enlarged to size x size with ``heat`` (crop-sized, >= 0) coloured over it, hot opaque.

    ``point`` (crop pixel centres) is marked with a cross."""
    face = cv2.resize(crop, (size, size), interpolation=cv2.INTER_LINEAR)
    if face.ndim == 2:
        face = np.repeat(face[..., None], 3, axis=2)
    peak = float(heat.max())
    level = cv2.resize(heat / peak if peak > 0 else heat, (size, size), interpolation=cv2.INTER_LINEAR).clip(0, 1)
    colour = cv2.applyColorMap((level * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    alpha = 0.65 * level[..., None]
    picture = (face * (1 - alpha) + colour * alpha).round().astype(np.uint8)
    if point is not None:
        scale = size / crop.shape[1]
        centre = tuple(int(round((v + 0.5) * scale - 0.5)) for v in point)
        marker = max(7, size // 16)
        cv2.drawMarker(picture, centre, (0, 0, 0), cv2.MARKER_CROSS, marker + 2, 3, cv2.LINE_AA)
        cv2.drawMarker(picture, centre, (255, 255, 255), cv2.MARKER_CROSS, marker, 1, cv2.LINE_AA)
    return picture


def labelled(picture: np.ndarray, text: str) -> np.ndarray:
    """``picture`` under a white band holding ``text``."""
    band = np.full((LABEL_HEIGHT, picture.shape[1], 3), 255, np.uint8)
    cv2.putText(band, text, (4, LABEL_HEIGHT - 6), FONT, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([band, picture])


def side_by_side(pictures: list[np.ndarray], gap: int = GAP) -> np.ndarray:
    """Equal-height pictures in a row, ``gap`` white pixels apart."""
    space = np.full((pictures[0].shape[0], gap, 3), 255, np.uint8)
    return np.hstack([part for picture in pictures for part in (space, picture)][1:])


def keypoint_picture(crop: np.ndarray, point: np.ndarray, title: str, maps: list[np.ndarray],
                     captions: list[str], size: int = 256) -> np.ndarray:
    """One keypoint: a titled row of captioned maps, each over the enlarged crop."""
    row = side_by_side([labelled(heat_over(crop, m, size, point), c) for m, c in zip(maps, captions)])
    return labelled(row, title)


def grid_picture(crop: np.ndarray, points: np.ndarray, titles: list[str], left: np.ndarray, right: np.ndarray,
                 heading: str, size: int = 128) -> np.ndarray:
    """Every keypoint as a tile of two maps side by side (left[i] | right[i]), in a near-square grid."""
    tiles = [labelled(side_by_side([heat_over(crop, a, size, p), heat_over(crop, b, size, p)], gap=1), t)
             for a, b, p, t in zip(left, right, points, titles)]
    columns = max(1, math.ceil(math.sqrt(len(tiles) / 2)))
    blank = np.full_like(tiles[0], 255)
    tiles += [blank] * (-len(tiles) % columns)
    rows = [side_by_side(tiles[i : i + columns], gap=3 * GAP) for i in range(0, len(tiles), columns)]
    return labelled(np.vstack(rows), heading)
