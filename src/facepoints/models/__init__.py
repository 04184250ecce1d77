"""Keypoint models. Build one with `create_model(name, num_keypoints, ...)`; `list_models()` names them.

Every model maps (N, C, H, W) float32 images in [0, 1] to (N, K, 2) keypoint (x, y) in the input's
pixel coordinates, top-left pixel centre at (0, 0).
"""

from . import conv4, conv12, densenet, integral, lenet, mean, mobile, mobilenet_v2, nouri, vgg, xception  # noqa: F401  (registers them)
from .registry import create_model, list_models, register_model

__all__ = ["create_model", "list_models", "register_model"]
