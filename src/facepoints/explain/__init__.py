"""Explain a keypoint model's prediction: per-keypoint Grad-CAM and occlusion maps. Needs torch."""

from facepoints.explain.maps import gradcam, occlude, occlusion
from facepoints.explain.model import ExplainableModel
from facepoints.explain.run import Explanation, explain_face, select_keypoints, write_explanation

__all__ = ["ExplainableModel", "Explanation", "explain_face", "gradcam", "occlude", "occlusion",
           "select_keypoints", "write_explanation"]
