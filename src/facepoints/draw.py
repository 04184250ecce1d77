"""Overlays: keypoints (optionally numbered) and boxes drawn on a copy of the image (Pillow)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from facepoints.inference import Face

POINT = (0, 255, 80)
BOX = (255, 170, 0)
# Pillow's names for the file types overlays and filtered photos are written as.
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP", ".tif": "TIFF",
           ".tiff": "TIFF"}
SUPERSAMPLE = 4  # drawn at 4x and shrunk: smooth edges at sub-pixel positions


def draw_faces(image: np.ndarray, faces: list[Face], numbers: bool = False, boxes: bool = True) -> np.ndarray:
    """RGB uint8 image -> a copy with each face's keypoints (and box) drawn, sized to the face."""
    canvas = Image.fromarray(np.ascontiguousarray(image[..., :3]))
    for face in faces:
        x, y, w, h = (float(v) for v in face.box)
        radius = max(1, int(round(max(w, h) / 90)))
        x0, y0 = max(0, int(x - 2 * radius)), max(0, int(y - 2 * radius))
        x1, y1 = min(canvas.width, int(x + w + 2 * radius) + 2), min(canvas.height, int(y + h + 2 * radius) + 2)
        if x1 <= x0 or y1 <= y0:
            continue
        # Each face is drawn on a supersampled patch of its own box, so a large photo costs no more.
        patch = canvas.crop((x0, y0, x1, y1)).resize(((x1 - x0) * SUPERSAMPLE, (y1 - y0) * SUPERSAMPLE),
                                                     Image.Resampling.NEAREST)  # undrawn pixels come back unchanged
        pen = ImageDraw.Draw(patch)

        def at(px: float, py: float) -> tuple[float, float]:  # pixel centres -> the patch's pixel edges
            return (px + 0.5 - x0) * SUPERSAMPLE, (py + 0.5 - y0) * SUPERSAMPLE

        if boxes:
            pen.rectangle([at(x, y), at(x + w, y + h)], outline=BOX, width=max(1, radius // 2) * SUPERSAMPLE)
        r = radius * SUPERSAMPLE
        for px, py in face.keypoints:
            cx, cy = at(px, py)
            pen.ellipse([cx - r, cy - r, cx + r, cy + r], fill=POINT)
        if numbers:
            font = ImageFont.load_default(size=max(8, 3 * radius) * SUPERSAMPLE)
            for i, (px, py) in enumerate(face.keypoints):
                cx, cy = at(px + radius + 1, py - radius - 1)
                pen.text((cx, cy), str(i), fill=POINT, font=font, anchor="lb")
        canvas.paste(patch.resize((x1 - x0, y1 - y0), Image.Resampling.BOX), (x0, y0))
    return np.asarray(canvas)


def encode_image(image: np.ndarray, suffix: str = ".png") -> bytes:
    """RGB uint8 -> file bytes of the type ``suffix`` names (.png, .jpg, .webp, ...)."""
    kind = FORMATS.get(suffix.lower() or ".png")
    if kind is None:
        raise ValueError(f"cannot encode {suffix} images")
    options = {"JPEG": {"quality": 95}, "PNG": {"compress_level": 1}}.get(kind, {})
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format=kind, **options)
    return buffer.getvalue()
