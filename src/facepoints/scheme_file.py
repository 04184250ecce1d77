"""A user's keypoint scheme read from a file: a scheme JSON, or the header of a landmark CSV.

A CSV header names each point by its coordinate columns (``chin_x, chin_y, ...``); its flip
pairs are the points whose names differ only by ``left`` for ``right``, since a header has no
place to state them (a scheme JSON states them, and where the points sit: schemes.py)."""

from __future__ import annotations

import json
from pathlib import Path

from facepoints.errors import DataError
from facepoints.schemes import Scheme, scheme_from_definition

# Columns a landmark CSV may carry besides the coordinates: `image` names the file, `identity` or
# `group` says which rows must stay on one side of a train/validation split.
METADATA_COLUMNS = ("identity", "source", "group", "image")


def read_scheme_file(path: str | Path) -> Scheme:
    """The scheme a .json scheme file or a landmark .csv header defines; DataError names what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "scheme file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(path, f"cannot read scheme file ({e})") from None
    try:
        if path.suffix.lower() == ".csv":
            return scheme_from_definition(definition_from_header(path.stem, text.partition("\n")[0]))
        return scheme_from_definition(json.loads(text))
    except json.JSONDecodeError as e:
        raise DataError(path, f"not JSON: {e}") from None
    except ValueError as e:
        raise DataError(path, str(e)) from None


def definition_from_header(name: str, header: str) -> dict:
    """A scheme definition from ``image,<point>_x,<point>_y,...``."""
    columns = [c.strip() for c in header.split(",") if c.strip() and c.strip() not in METADATA_COLUMNS]
    if len(columns) % 2 or not columns:
        raise ValueError("header must name each point by a <name>_x and a <name>_y column")
    points = []
    for x, y in zip(columns[::2], columns[1::2]):
        if not (x.endswith("_x") and y == x[:-2] + "_y"):
            raise ValueError(f"columns {x!r}, {y!r} are not a <name>_x, <name>_y pair")
        points.append(x[:-2])
    pairs = [[p, p.replace("left", "right")] for p in points
             if "left" in p and p.replace("left", "right") in points]
    return {"name": name, "points": points, "flip_pairs": pairs}
