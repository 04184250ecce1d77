"""facepoints: facial keypoints in photos and video.

    import facepoints
    faces = facepoints.detect("photo.jpg")                    # 68 points per face
    faces = facepoints.detect(pil_image, scheme="celeba5")   # eyes, nose, mouth corners
"""

from __future__ import annotations

import functools

from facepoints.options import KeypointerOptions
from facepoints.version import __version__  # noqa: F401  (facepoints.__version__)


@functools.lru_cache(maxsize=4)
def _keypointer(options: KeypointerOptions):
    from facepoints.inference import FaceKeypointer

    return FaceKeypointer(options=options)


def detect(image, scheme: str | None = None, *, model: str = KeypointerOptions.model,
           threshold: float = KeypointerOptions.threshold, detect_size: int | None = None,
           flip_test: bool = KeypointerOptions.flip_test, channels: str = "rgb"):
    """Every face's keypoints in ``image``: a path, bytes, a PIL image or a grey, RGB or RGBA numpy
    array (``channels="bgr"`` for OpenCV's BGR or BGRA arrays).

    Returns a list of ``facepoints.inference.Face`` (box, score, scheme, keypoints, names), with
    coordinates in 0-based pixel centres of the displayed image (EXIF orientation applied).
    detect_size: longer side the photo is shrunk to for the face detector (default
    ``facepoints.options.MAX_SIDE``); raise it to find small faces in large photos.
    flip_test: average each face with its mirror image (default); off skips that second pass of the
    keypoint model, for slightly less accurate keypoints."""
    options = KeypointerOptions(model=model, threshold=threshold, detect_size=detect_size, flip_test=flip_test)
    return _keypointer(options)(image, scheme=scheme, channels=channels)
