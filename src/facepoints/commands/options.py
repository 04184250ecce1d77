"""Options that every command finding faces takes, defined once so their limits and help agree,
with their defaults and limits taken from the keypointer's own (``facepoints.options``)."""

from __future__ import annotations

from pathlib import Path

import typer

from facepoints.errors import FacepointsError
from facepoints.options import MAX_SIDE, SIDE_LIMITS, KeypointerOptions
from facepoints.schemes import SCHEMES

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



def _model(value: str) -> str:
    """A bundled name or a path: a word that is neither is a mistyped name (usage error), while a
    path that is missing is bad input, found when the model is loaded."""
    from facepoints.runtime import BUNDLED

    path = Path(value)
    if value in BUNDLED or path.exists() or path.suffix or len(path.parts) > 1:
        return value
    raise typer.BadParameter(f"{value!r} is neither a bundled model ({', '.join(BUNDLED)}) nor a model file "
                             "or run folder")


def _box(value: str | None) -> str | None:
    from facepoints.inference import parse_box

    if value is not None:
        try:
            parse_box(value)
        except FacepointsError as e:
            raise typer.BadParameter(str(e)) from None
    return value


SCHEME = typer.Option(None, help=f"Keypoints to report: {', '.join(SCHEMES)}, or the model's own scheme (default: the model's); "
                                  "checked against the model once it is loaded.")
BOX = typer.Option(None, callback=_box, help="x,y,w,h of the face: skip detection.")


def model_option(default: str, help: str):
    """``--model``: checked before any work, so a mistyped name is a usage error (exit 2)."""
    return typer.Option(default, callback=_model, help=help)


def existing(path: Path, what: str) -> Path:
    """``path``, or a one-line error naming it when it does not exist."""
    if not path.exists():
        raise FacepointsError(f"{path}: {what} not found")
    return path
