"""The README's before/after strip: each built-in filter on a public-domain portrait.

    python tools/filter_gallery.py docs/images/filters.png

The portrait is Grace Hopper's US Navy photo that matplotlib ships (public domain), the same
one `facepoints detect --example` uses.
"""

from __future__ import annotations

import sys

import numpy as np
from PIL import Image

import facepoints
from facepoints.commands.detect import example_photo
from facepoints.filters import FILTER_NAMES, load_filter
from facepoints.imageio import read_image


def main(out: str) -> None:
    image = read_image(example_photo())
    faces = facepoints.detect(image)
    x, y, w, h = faces[0].box.astype(int)
    top, bottom, left, right = max(y - h // 2, 0), y + h + h // 5, max(x - w // 3, 0), x + w + w // 3
    panels = [image[top:bottom, left:right]]
    for name in FILTER_NAMES:
        filtered = image.copy()
        load_filter(name)(filtered, faces)
        panels.append(filtered[top:bottom, left:right])
    gap = np.full((bottom - top, 6, 3), 255, np.uint8)
    strip = np.concatenate([p for panel in panels for p in (panel, gap)][:-1], axis=1)
    Image.fromarray(strip).save(out, optimize=True)


if __name__ == "__main__":
    main(sys.argv[1])
