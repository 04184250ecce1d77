"""VGG-like net: blocks of two 3x3 convs and a max-pool at 32-64-128-256 channels, dense head."""

from __future__ import annotations

from torch import nn

from .common import KeypointRegressor
from .registry import register_model


def _vgg_block(in_chans: int, out_chans: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_chans, out_chans, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(out_chans, out_chans, 3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    ]


@register_model
def vgg_like(num_keypoints: int, in_chans: int = 1, image_size: int = 96) -> KeypointRegressor:
    widths = (in_chans, 32, 64, 128, 256)
    features = nn.Sequential(*(m for a, b in zip(widths, widths[1:]) for m in _vgg_block(a, b)))
    return KeypointRegressor(
        features, hidden=(512,), dropout=(0.5,),
        num_keypoints=num_keypoints, in_chans=in_chans, image_size=image_size,
    )
