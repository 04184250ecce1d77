"""DenseNet-169 (Huang et al., 2017, "Densely Connected Convolutional Networks", arXiv:1608.06993):
each layer of a dense block sees every earlier layer's features (concatenated) and adds ``growth``
channels; transitions halve channels and resolution between blocks. DenseNet-BC's bottleneck
(1x1 to 4 x growth before the 3x3) and compression 0.5, as in the paper's ImageNet models."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .backbone import pooled_regressor
from .common import conv_bn
from .registry import register_model

DENSENET169_BLOCKS = (6, 12, 32, 32)


def _bn_relu_conv(in_chans: int, out_chans: int, kernel: int) -> list[nn.Module]:
    return [nn.BatchNorm2d(in_chans), nn.ReLU(inplace=True),
            nn.Conv2d(in_chans, out_chans, kernel, padding=kernel // 2, bias=False)]


class DenseLayer(nn.Module):
    """BN-ReLU-1x1 bottleneck, BN-ReLU-3x3 to ``growth`` new channels, concatenated to the input."""

    def __init__(self, in_chans: int, growth: int, bottleneck: int = 4) -> None:
        super().__init__()
        self.layers = nn.Sequential(*_bn_relu_conv(in_chans, bottleneck * growth, 1),
                                    *_bn_relu_conv(bottleneck * growth, growth, 3))

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([x, self.layers(x)], 1)


class DenseNet(nn.Module):
    """7x7 stem and max-pool (stride 4), dense blocks joined by transitions, a final BN-ReLU."""

    def __init__(self, blocks: tuple[int, ...], in_chans: int = 3, growth: int = 32, stem_chans: int = 64) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            *conv_bn(in_chans, stem_chans, 7, 2), nn.MaxPool2d(3, 2, 1),
        ]
        width = stem_chans
        for i, count in enumerate(blocks):
            for _ in range(count):
                layers.append(DenseLayer(width, growth))
                width += growth
            if i < len(blocks) - 1:  # transition: compress by half, pool
                layers += [*_bn_relu_conv(width, width // 2, 1), nn.AvgPool2d(2)]
                width //= 2
        layers += [nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.out_chans = width

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)


@register_model
def densenet169(num_keypoints: int, in_chans: int = 1, image_size: int = 96) -> nn.Module:
    return pooled_regressor(DenseNet(DENSENET169_BLOCKS, in_chans), num_keypoints, in_chans, image_size)
