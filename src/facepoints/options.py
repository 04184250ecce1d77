"""How a FaceKeypointer finds faces and their keypoints: one frozen options object, made once and
passed whole by `detect`, `filter`, `serve` and Ray (MediaPipe's FaceLandmarkerOptions is the pattern).

Light on purpose (no NumPy, OpenCV or ONNX Runtime): the CLI reads its defaults and limits from here
as it starts, and the face detector takes the same constants, so the two never disagree.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

# YuNet was trained at VGA-like sizes: larger photos are shrunk to this longer side for detection
# and the results scaled back. A face must keep about 10 px in the shrunk photo, so crowds in large
# photos need more.
MAX_SIDE = 640
SIDE_LIMITS = (64, 8192)  # what the longer side may be: faces vanish below, memory runs out above
SCORE_THRESHOLD = 0.6  # the face detector's default score threshold
# Detections whose box is narrower or lower than this (px, in the photo) are dropped: below it the
# detector's hits were patterns, not faces (docs/benchmarks.md, "Detector defaults").
MIN_FACE_SIZE = 20


@dataclass(frozen=True)
class KeypointerOptions:
    """Everything that decides which faces a FaceKeypointer finds and which keypoints it gives.

    model: a bundled model name, a model.onnx or a run folder; or a loaded model object (with
        ``KeypointModel``'s attributes and ``predict``), used as it was made.
    scheme: keypoints to report (None: the model's own).
    detector: the face detector's registered name.
    threshold: the face detector's score threshold.
    detect_size: longer side (px) a photo is shrunk to for the face detector (None: the detector's
        own default, MAX_SIDE).
    flip_test: average each face's keypoints with those of its mirror image.
    refine: extra passes, each framed from the model's own keypoints.
    threads: ONNX Runtime threads of each model (None: every core this process may use).
    """

    model: Any = "ibug68"
    scheme: str | None = None
    detector: str = "yunet"
    threshold: float = SCORE_THRESHOLD
    detect_size: int | None = None
    flip_test: bool = True
    refine: int = 0
    threads: int | None = None


def keypointer_options(options: KeypointerOptions | None = None, **settings) -> KeypointerOptions:
    """``options`` (default: the defaults) with the fields given as keywords replaced: where an
    options object and keyword calls such as ``FaceKeypointer(model="ibug68-fast", threads=1)`` meet."""
    return dataclasses.replace(options or KeypointerOptions(), **settings)
