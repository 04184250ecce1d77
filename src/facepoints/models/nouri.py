"""Daniel Nouri's Kaggle tutorial net (net6/net7): three small valid convs, dropout rising 0.1..0.5."""

from __future__ import annotations

from torch import nn

from .common import KeypointRegressor
from .registry import register_model


def _conv_pool_drop(in_chans: int, out_chans: int, kernel_size: int, p: float) -> list[nn.Module]:
    return [
        nn.Conv2d(in_chans, out_chans, kernel_size),  # Lasagne's default: no padding
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Dropout(p),
    ]


@register_model
def nouri(num_keypoints: int, in_chans: int = 1, image_size: int = 96) -> KeypointRegressor:
    features = nn.Sequential(
        *_conv_pool_drop(in_chans, 32, 3, 0.1),
        *_conv_pool_drop(32, 64, 2, 0.2),
        *_conv_pool_drop(64, 128, 2, 0.3),
    )
    return KeypointRegressor(
        features, hidden=(500, 500), dropout=(0.5, 0.0),
        num_keypoints=num_keypoints, in_chans=in_chans, image_size=image_size,
    )
