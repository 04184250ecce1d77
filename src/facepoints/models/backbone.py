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


def conv_bn(in_chans: int, out_chans: int, kernel: int, stride: int = 1, groups: int = 1,
            act: type[nn.Module] | None = nn.ReLU6, eps: float = 1e-5) -> nn.Sequential:
    """Convolution (no bias), batch norm, optional activation; "same" padding for odd kernels."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_chans, out_chans, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_chans, eps=eps),
    ]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)
