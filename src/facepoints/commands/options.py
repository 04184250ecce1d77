"""Options that every command finding faces takes, defined once so their limits and help agree,
with their defaults and limits taken from the keypointer's own (``facepoints.options``)."""

from __future__ import annotations

from pathlib import Path

import typer

from facepoints.errors import FacepointsError
from facepoints.options import MAX_SIDE, SIDE_LIMITS, KeypointerOptions

THRESHOLD = typer.Option(KeypointerOptions.threshold, min=0.0, max=1.0, help="Face detector score threshold.")
DETECT_SIZE = typer.Option(
    MAX_SIDE, min=SIDE_LIMITS[0], max=SIDE_LIMITS[1],
    help="Longer side (px) photos are shrunk to for the face detector: larger finds smaller faces in big "
         "photos (a face needs about 10 px after shrinking), smaller is faster.",
)
FLIP_TEST = typer.Option(
    KeypointerOptions.flip_test, "--flip-test/--no-flip-test",
    help="Average each face's keypoints with those found on its mirror image: slightly more accurate, "
         "at the cost of a second pass of the keypoint model.",
)


def existing(path: Path, what: str) -> Path:
    """``path``, or a one-line error naming it when it does not exist."""
    if not path.exists():
        raise FacepointsError(f"{path}: {what} not found")
    return path
