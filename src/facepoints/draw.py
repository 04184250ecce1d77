"""Overlays: keypoints (optionally numbered) and boxes drawn on a copy of the image."""

from __future__ import annotations

import cv2
import numpy as np

from facepoints.inference import Face

POINT = (0, 255, 80)
BOX = (255, 170, 0)


FADE_LEVELS = 4  # a point's opacity follows its confidence, in this many steps


def draw_faces(image: np.ndarray, faces: list[Face], numbers: bool = False, boxes: bool = True,
               min_confidence: float = 0.0) -> np.ndarray:
    """RGB uint8 image -> a copy with each face's keypoints (and box) drawn, sized to the face.
    Points with a confidence are drawn as faded as they are unsure; those below ``min_confidence`` not at all."""
    canvas = np.ascontiguousarray(image.copy())
    for face in faces:
        x, y, w, h = face.box
        radius = max(1, int(round(max(w, h) / 90)))
        if boxes:
            cv2.rectangle(canvas, (int(x), int(y)), (int(x + w), int(y + h)), BOX, max(1, radius // 2), cv2.LINE_AA)
        if face.confidence is None:
            _draw_points(canvas, face.keypoints, range(len(face.keypoints)), radius, numbers)
            continue
        # Each opacity level is drawn on a copy of the face's region and blended in.
        margin = radius * 2 + (40 if numbers else 0)
        x0, y0 = np.clip(np.floor(face.keypoints.min(0)).astype(int) - margin, 0, None)
        x1, y1 = np.ceil(face.keypoints.max(0)).astype(int) + margin
        region = canvas[y0:y1, x0:x1]
        levels = np.ceil(np.clip(face.confidence, 1e-6, 1) * FADE_LEVELS).astype(int)
        for level in range(1, FADE_LEVELS + 1):
            chosen = np.flatnonzero((levels == level) & (face.confidence >= min_confidence))
            if len(chosen) and region.size:
                layer = region.copy()
                _draw_points(layer, face.keypoints - (x0, y0), chosen, radius, numbers)
                cv2.addWeighted(layer, level / FADE_LEVELS, region, 1 - level / FADE_LEVELS, 0, dst=region)
    return canvas


def _draw_points(canvas: np.ndarray, points: np.ndarray, indices, radius: int, numbers: bool) -> None:
    for i in indices:
        px, py = points[i]
        # OpenCV draws at integer pixel centres; shift=4 keeps sub-pixel positions.
        centre = (int(round(px * 16)), int(round(py * 16)))
        cv2.circle(canvas, centre, radius * 16, POINT, -1, cv2.LINE_AA, shift=4)
        if numbers:
            cv2.putText(canvas, str(i), (int(px) + radius + 1, int(py) - radius - 1), cv2.FONT_HERSHEY_SIMPLEX,
                        max(0.3, radius / 4), POINT, 1, cv2.LINE_AA)


def encode_image(image: np.ndarray, suffix: str = ".png") -> bytes:
    """RGB uint8 -> file bytes of the type ``suffix`` names (.png, .jpg, .webp, ...)."""
    ok, encoded = cv2.imencode(suffix.lower() or ".png", np.ascontiguousarray(image[..., ::-1]))
    if not ok:
        raise ValueError(f"OpenCV cannot encode {suffix} images")
    return encoded.tobytes()
