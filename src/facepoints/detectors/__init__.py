"""Face detectors behind one small interface, chosen by name (face-alignment's pattern).

A detector maps an RGB uint8 image to ``Detection``s: a box, a score and, where the detector
gives them, five reference points (celeba5 order) that frame the face for a keypoint model."""

from facepoints.detectors.base import Detection, Detector, create_detector, list_detectors

__all__ = ["Detection", "Detector", "create_detector", "list_detectors"]
