"""The popular Kaggle 12-conv net: pairs of 3x3 conv -> LeakyReLU(0.1) -> BatchNorm, pooled between."""

from __future__ import annotations

from torch import nn

from .common import KeypointRegressor
from .registry import register_model


def _conv_act_bn(in_chans: int, out_chans: int) -> list[nn.Module]:
    # The notebook's order (activation before BatchNorm), kept as published.
    return [
        nn.Conv2d(in_chans, out_chans, 3, padding=1, bias=False),
        nn.LeakyReLU(0.1, inplace=True),
        nn.BatchNorm2d(out_chans),
    ]


@register_model
def conv12(num_keypoints: int, in_chans: int = 1, image_size: int = 96) -> KeypointRegressor:
    layers: list[nn.Module] = []
    width = in_chans
    for i, out_width in enumerate((32, 64, 96, 128, 256, 512)):
        if i > 0:
            layers.append(nn.MaxPool2d(2))
        layers += _conv_act_bn(width, out_width) + _conv_act_bn(out_width, out_width)
        width = out_width
    return KeypointRegressor(
        nn.Sequential(*layers), hidden=(512,), dropout=(0.1,),
        num_keypoints=num_keypoints, in_chans=in_chans, image_size=image_size,
    )
