"""Face filters: pictures placed on every face by its keypoints, or the keypoints drawn.

    from facepoints.filters import load_filter
    sunglasses = load_filter("sunglasses")       # or a user's anchor file: load_filter("crown.json")
    sunglasses(image, faces)                      # RGB uint8 image, changed in place
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from facepoints.errors import FacepointsError
from facepoints.filters.sticker import Sticker, face_points, load_sticker
from facepoints.inference import Face

STICKERS = ("sunglasses", "moustache", "hat")
FILTER_NAMES = STICKERS + ("keypoints",)

# A face is left bare when its picture would be meaningless: too small to see, or a fit that
# looks wrong (a weak detection, or an eye line far from the usual share of the face box).
MIN_EYE_DISTANCE = 8.0  # px
MIN_SCORE = 0.5
EYE_LINE_SHARE = (0.15, 0.9)  # eye distance / box width; frontal faces sit near 0.46


class Filter(Protocol):
    name: str

    def __call__(self, image: np.ndarray, faces: list[Face]) -> None: ...


def is_placeable(face: Face, points: dict[str, np.ndarray]) -> bool:
    eye_distance = float(np.linalg.norm(points["righteye"] - points["lefteye"]))
    share = eye_distance / max(float(face.box[2]), 1e-6)
    return (eye_distance >= MIN_EYE_DISTANCE and face.score >= MIN_SCORE
            and EYE_LINE_SHARE[0] <= share <= EYE_LINE_SHARE[1])


def is_confident(face: Face, min_confidence: float) -> bool:
    """A face whose points are sure enough on average (facepoints.confidence); one without
    confidence (flip test off) counts as sure."""
    return face.confidence is None or float(face.confidence.mean()) >= min_confidence


class StickerFilter:
    def __init__(self, sticker: Sticker, min_confidence: float = 0.0):
        self.sticker, self.name, self.min_confidence = sticker, sticker.name, min_confidence

    def __call__(self, image: np.ndarray, faces: list[Face]) -> None:
        for face in faces:
            points = face_points(face.keypoints, face.scheme)
            if is_placeable(face, points) and is_confident(face, self.min_confidence):
                self.sticker.paste(image, self.sticker.placement(points))


class KeypointsFilter:
    name = "keypoints"

    def __init__(self, min_confidence: float = 0.0):
        self.min_confidence = min_confidence

    def __call__(self, image: np.ndarray, faces: list[Face]) -> None:
        from facepoints.draw import draw_faces

        image[...] = draw_faces(image, faces, boxes=False, min_confidence=self.min_confidence)


def load_filter(name: str, min_confidence: float = 0.0) -> Filter:
    """A built-in filter by name, or a user's picture by its anchor file (``*.json``). With
    ``min_confidence``, keypoints less sure are not drawn, and a picture skips faces less sure on average."""
    if name == "keypoints":
        return KeypointsFilter(min_confidence)
    if name in STICKERS:
        with resources.as_file(resources.files("facepoints") / "assets" / "filters") as folder:  # picture too
            return StickerFilter(load_sticker(folder / f"{name}.json"), min_confidence)
    if Path(name).suffix.lower() == ".json":
        return StickerFilter(load_sticker(name), min_confidence)
    raise FacepointsError(f"unknown filter {name!r}; choose {', '.join(FILTER_NAMES)} or an anchor file (.json)")
