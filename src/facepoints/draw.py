"""Overlays: keypoints (optionally numbered) and boxes drawn on a copy of the image."""

from __future__ import annotations

import cv2
import numpy as np

from facepoints.inference import Face

POINT = (0, 255, 80)
BOX = (255, 170, 0)


def draw_faces(image: np.ndarray, faces: list[Face], numbers: bool = False, boxes: bool = True) -> np.ndarray:
    """RGB uint8 image -> a copy with each face's keypoints (and box) drawn, sized to the face."""
    canvas = np.ascontiguousarray(image.copy())
    for face in faces:
        x, y, w, h = face.box
        radius = max(1, int(round(max(w, h) / 90)))
        if boxes:
            cv2.rectangle(canvas, (int(x), int(y)), (int(x + w), int(y + h)), BOX, max(1, radius // 2), cv2.LINE_AA)
        for i, (px, py) in enumerate(face.keypoints):
            # OpenCV draws at integer pixel centres; shift=4 keeps sub-pixel positions.
            centre = (int(round(px * 16)), int(round(py * 16)))
            cv2.circle(canvas, centre, radius * 16, POINT, -1, cv2.LINE_AA, shift=4)
            if numbers:
                cv2.putText(canvas, str(i), (int(px) + radius + 1, int(py) - radius - 1), cv2.FONT_HERSHEY_SIMPLEX,
                            max(0.3, radius / 4), POINT, 1, cv2.LINE_AA)
    return canvas


def encode_image(image: np.ndarray, suffix: str = ".png") -> bytes:
    """RGB uint8 -> file bytes of the type ``suffix`` names (.png, .jpg, .webp, ...)."""
    ok, encoded = cv2.imencode(suffix.lower() or ".png", np.ascontiguousarray(image[..., ::-1]))
    if not ok:
        raise ValueError(f"OpenCV cannot encode {suffix} images")
    return encoded.tobytes()
