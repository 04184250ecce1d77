"""What every architecture shares: input normalisation, the pixel mapping, the dense regressor."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


def conv_bn(in_chans: int, out_chans: int, kernel: int = 3, stride: int = 1, groups: int = 1,
            act: type[nn.Module] | None = nn.ReLU, eps: float = 1e-5) -> nn.Sequential:
    """Convolution (no bias), batch norm, optional activation; "same" padding for odd kernels."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_chans, out_chans, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_chans, eps=eps),
    ]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


def normalize_input(x: Tensor) -> Tensor:
    """Centre [0, 1] pixels on zero, so no caller has to know a model's preprocessing."""
    return x - 0.5


def to_pixels(u: Tensor, image_size: int) -> Tensor:
    """Normalised coordinates (-1 and 1 are the image's outer edges) -> pixel coordinates.

    Pixel centres sit on integers, so the top-left centre is (0, 0) and u = 0 is the image centre.
    """
    return (u + 1) * (image_size / 2) - 0.5


def to_normalized(points: Tensor, image_size: int) -> Tensor:
    """Inverse of `to_pixels`."""
    return (points + 0.5) * (2 / image_size) - 1


class KeypointRegressor(nn.Module):
    """A feature extractor, flattened into dense layers that regress normalised (u, v) per point.

    The Kaggle seed notebooks all share this shape; only `features` and the dense widths differ.
    """

    def __init__(
        self,
        features: nn.Module,
        hidden: Sequence[int],
        dropout: Sequence[float],
        num_keypoints: int,
        in_chans: int,
        image_size: int,
    ) -> None:
        super().__init__()
        self.num_keypoints, self.in_chans, self.image_size = num_keypoints, in_chans, image_size
        self.features = features
        layers: list[nn.Module] = [nn.Flatten()]
        width = _flat_size(features, in_chans, image_size)
        for out_width, p in zip(hidden, dropout, strict=True):
            layers += [nn.Linear(width, out_width), nn.ReLU(inplace=True)]
            if p > 0:
                layers.append(nn.Dropout(p))
            width = out_width
        self.head = nn.Sequential(*layers)
        self.out = nn.Linear(width, 2 * num_keypoints)
        # Tiny outputs at init: an untrained net predicts (near) the image centre.
        nn.init.normal_(self.out.weight, std=1e-3)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: Tensor) -> Tensor:
        hidden = self.head(self.features(normalize_input(x)))
        # float32 even under bf16 autocast: bf16 pixel coordinates near 48 are 0.25 px apart.
        with torch.autocast(x.device.type, enabled=False):
            u = self.out(hidden.float())
        return to_pixels(u.view(-1, self.num_keypoints, 2), self.image_size)


@torch.no_grad()
def _flat_size(features: nn.Module, in_chans: int, image_size: int) -> int:
    """Number of features `features` yields for one image, found by running it once."""
    was_training = features.training
    features.eval()  # keeps BatchNorm's running statistics untouched
    size = features(torch.zeros(1, in_chans, image_size, image_size)).numel()
    features.train(was_training)
    return size
