"""Seed 003's backbones as keypoint regressors: an ImageNet-style encoder, global average pooling
and a small dense head to 2K outputs (models.common.KeypointRegressor), as the seed built them."""

from __future__ import annotations

from torch import nn

from .common import KeypointRegressor

HEAD_HIDDEN = (256,)
HEAD_DROPOUT = (0.2,)


def pooled_regressor(encoder: nn.Module, num_keypoints: int, in_chans: int, image_size: int) -> KeypointRegressor:
    """``encoder``'s feature map averaged over space, then one hidden dense layer to the points."""
    features = nn.Sequential(encoder, nn.AdaptiveAvgPool2d(1))
    return KeypointRegressor(features, HEAD_HIDDEN, HEAD_DROPOUT, num_keypoints, in_chans, image_size)


