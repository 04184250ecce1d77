"""Four 3x3 conv stages 64-128-256-512 (ReLU, max-pool, BatchNorm each), dense 1024 -> 512."""

from __future__ import annotations

from torch import nn

from .common import KeypointRegressor
from .registry import register_model


def _conv_stage(in_chans: int, out_chans: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_chans, out_chans, 3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(2), nn.BatchNorm2d(out_chans),
    ]


@register_model
def conv4(num_keypoints: int, in_chans: int = 1, image_size: int = 96) -> KeypointRegressor:
    widths = (in_chans, 64, 128, 256, 512)
    features = nn.Sequential(*(m for a, b in zip(widths, widths[1:]) for m in _conv_stage(a, b)))
    return KeypointRegressor(
        features, hidden=(1024, 512), dropout=(0.0, 0.0),
        num_keypoints=num_keypoints, in_chans=in_chans, image_size=image_size,
    )
