"""LeNet-5 re-created for 96x96 faces: two 5x5 conv/pool stages and dense 120 -> 84 (ReLU, max-pool)."""

from __future__ import annotations

from torch import nn

from .common import KeypointRegressor
from .registry import register_model


@register_model
def lenet5(num_keypoints: int, in_chans: int = 1, image_size: int = 96) -> KeypointRegressor:
    features = nn.Sequential(
        nn.Conv2d(in_chans, 6, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2),
    )
    return KeypointRegressor(
        features, hidden=(120, 84), dropout=(0.0, 0.0),
        num_keypoints=num_keypoints, in_chans=in_chans, image_size=image_size,
    )
