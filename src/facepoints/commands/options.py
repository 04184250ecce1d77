"""Options that every command finding faces takes, defined once so their limits and help agree."""

from __future__ import annotations

import typer

THRESHOLD = typer.Option(0.6, min=0.0, max=1.0, help="Face detector score threshold.")
# 640 is the YuNet detector's own default (facepoints.detectors.yunet.MAX_SIDE), not imported here
# so that the CLI starts without loading OpenCV and ONNX Runtime.
DETECT_SIZE = typer.Option(
    640, min=64, max=8192,
    help="Longer side (px) photos are shrunk to for the face detector: larger finds smaller faces in big "
         "photos (a face needs about 10 px after shrinking), smaller is faster.",
)
FLIP_TEST = typer.Option(
    True, "--flip-test/--no-flip-test",
    help="Average each face's keypoints with those found on its mirror image: slightly more accurate "
         "(NME about 0.001 lower), at 1.6-2x the keypoint model's time.",
)
