"""Face detectors behind one small interface, chosen by name (face-alignment's pattern).

A detector maps an RGB uint8 image to ``Detection``s: a box, a score and, where the detector
gives them, five reference points (celeba5 order) that frame the face for a keypoint model.
Build one with `create_detector(name, **options)`; `list_detectors()` names them. A new detector
is a module here that registers itself with `register_detector`, imported below."""

from . import yunet  # noqa: F401  (registers it)
from .base import Detection, Detector
from .registry import create_detector, list_detectors, register_detector

__all__ = ["Detection", "Detector", "create_detector", "list_detectors", "register_detector"]
