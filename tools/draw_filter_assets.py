"""Draw the built-in filter pictures (RGBA PNG) and their anchor files: our own art, no third party's.

    python tools/draw_filter_assets.py src/facepoints/assets/filters

Each picture is drawn at 4x with PIL and shrunk with a Lanczos filter, which anti-aliases the
edges. The anchor file says where a face's eye centres fall on the picture (that sets angle and
width) and which face point fixes its position (see facepoints/filters/sticker.py).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

SCALE = 4


def canvas(width: int, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGBA", (width * SCALE, height * SCALE), (0, 0, 0, 0))
    return image, ImageDraw.Draw(image)


def finish(image: Image.Image) -> Image.Image:
    return image.resize((image.width // SCALE, image.height // SCALE), Image.Resampling.LANCZOS)


def s(*values: float) -> list[float]:
    return [v * SCALE for v in values]


def sunglasses() -> tuple[Image.Image, dict]:
    image, draw = canvas(600, 200)
    frame = (20, 20, 24, 255)
    for cx in (190, 410):  # lenses centred on the eyes
        draw.rounded_rectangle(s(cx - 118, 34, cx + 118, 178), radius=56 * SCALE, fill=frame)
        draw.rounded_rectangle(s(cx - 106, 46, cx + 106, 166), radius=46 * SCALE, fill=(35, 45, 60, 235))
        draw.ellipse(s(cx - 84, 58, cx - 22, 88), fill=(255, 255, 255, 70))  # glint
    draw.rounded_rectangle(s(280, 50, 320, 70), radius=8 * SCALE, fill=frame)  # bridge
    draw.rectangle(s(40, 40, 80, 60), fill=frame)
    draw.rectangle(s(520, 40, 560, 60), fill=frame)
    return finish(image), {"eyes": [[190, 104], [410, 104]]}


def moustache() -> tuple[Image.Image, dict]:
    image, draw = canvas(360, 130)
    hair = (70, 42, 22, 255)
    steps = 120
    for side in (-1, 1):  # one brush stroke per side: thick at the middle, thinning to a curled tip
        for i in range(steps + 1):
            t = i / steps
            x = 180 + side * (8 + 150 * t)
            y = 50 + 30 * math.sin(math.pi * min(t, 0.8) / 0.8) ** 0.7 - 170 * max(0.0, t - 0.78) ** 1.6
            radius = 4 + 22 * (1 - t) ** 0.8
            draw.ellipse(s(x - radius, y - radius, x + radius, y + radius), fill=hair)
    image = image.filter(ImageFilter.GaussianBlur(0.8 * SCALE))
    # About 1.6 eye distances wide; its middle sits between nose tip and mouth (the eyes set only angle and width).
    return finish(image), {"eyes": [[68, -300], [292, -300]], "anchor": {"point": ["nose", "mouth"], "at": [180, 58]}}


def hat() -> tuple[Image.Image, dict]:
    image, draw = canvas(420, 330)
    felt = (28, 28, 34, 255)
    draw.rounded_rectangle(s(100, 10, 320, 270), radius=18 * SCALE, fill=felt)  # crown
    draw.rectangle(s(100, 205, 320, 250), fill=(170, 30, 40, 255))  # band
    draw.ellipse(s(10, 240, 410, 320), fill=felt)  # brim
    draw.ellipse(s(110, 18, 170, 200), fill=(255, 255, 255, 28))  # sheen
    # The brim rests on the forehead: its centre line about 1.1 eye distances above the eyes.
    return finish(image), {"eyes": [[150, 410], [270, 410]]}


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, make in (("sunglasses", sunglasses), ("moustache", moustache), ("hat", hat)):
        image, anchors = make()
        image.save(out / f"{name}.png", optimize=True)
        (out / f"{name}.json").write_text(json.dumps({"image": f"{name}.png", **anchors}, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
