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


def draw_faces(image: np.ndarray, faces: list[Face], numbers: bool = False, boxes: bool = True,
               min_confidence: float = 0.0) -> np.ndarray:
    """RGB uint8 image -> a copy with each face's keypoints (and box) drawn, sized to the face.
    Points with a confidence are drawn as faded as they are unsure; those below ``min_confidence`` not at all."""
    canvas = Image.fromarray(np.ascontiguousarray(image[..., :3]))
    for face in faces:
        x, y, w, h = (float(v) for v in face.box)
        radius = max(1, int(round(max(w, h) / 90)))
        margin = 2 * radius + (6 * radius + 12 if numbers else 0)  # numbers sit right of and above their points
        left, top = np.minimum(face.keypoints.min(0), (x, y))
        right, bottom = np.maximum(face.keypoints.max(0), (x + w, y + h))
        x0, y0 = max(0, int(left) - margin), max(0, int(top) - margin)
        x1, y1 = min(canvas.width, int(right) + margin + 2), min(canvas.height, int(bottom) + margin + 2)
        if x1 <= x0 or y1 <= y0:
            continue
        # Each face is drawn on a supersampled patch of its own region, so a large photo costs no more.
        patch = canvas.crop((x0, y0, x1, y1)).resize(((x1 - x0) * SUPERSAMPLE, (y1 - y0) * SUPERSAMPLE),
                                                     Image.Resampling.NEAREST)  # undrawn pixels come back unchanged
        marks = Image.new("RGBA", patch.size)  # transparent: blended over the patch by each mark's opacity
        pen = ImageDraw.Draw(marks)

        def at(px: float, py: float) -> tuple[float, float]:  # pixel centres -> the patch's pixel edges
            return (px + 0.5 - x0) * SUPERSAMPLE, (py + 0.5 - y0) * SUPERSAMPLE

        if boxes:
            pen.rectangle([at(x, y), at(x + w, y + h)], outline=BOX, width=max(1, radius // 2) * SUPERSAMPLE)
        confidence = np.ones(len(face.keypoints)) if face.confidence is None else np.clip(face.confidence, 0, 1)
        shown = np.flatnonzero(confidence >= min_confidence)
        r = radius * SUPERSAMPLE
        font = ImageFont.load_default(size=max(8, 3 * radius) * SUPERSAMPLE) if numbers else None
        for i in shown:
            colour = (*POINT, int(round(255 * confidence[i])))
            cx, cy = at(*face.keypoints[i])
            pen.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
            if numbers:
                pen.text(at(face.keypoints[i][0] + radius + 1, face.keypoints[i][1] - radius - 1), str(i),
                         fill=colour, font=font, anchor="lb")
        patch = Image.alpha_composite(patch.convert("RGBA"), marks).convert("RGB")
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
