"""Xception (Chollet, 2017, "Xception: Deep Learning with Depthwise Separable Convolutions",
arXiv:1610.02357): an entry flow that strides by 2 four more times, a middle flow of eight residual
blocks of three separable convolutions at 728 channels, and an exit flow to 2048 channels. Every
separable convolution is a depthwise 3x3 then a pointwise 1x1, then batch norm."""

from __future__ import annotations

from torch import Tensor, nn

from .backbone import pooled_regressor
from .common import conv_bn
from .registry import register_model

MIDDLE_BLOCKS = 8


def separable(in_chans: int, out_chans: int) -> list[nn.Module]:
    return [nn.Conv2d(in_chans, in_chans, 3, padding=1, groups=in_chans, bias=False),
            nn.Conv2d(in_chans, out_chans, 1, bias=False), nn.BatchNorm2d(out_chans)]


class XceptionBlock(nn.Module):
    """ReLU-separable conv-BN repeated over ``widths``; a strided block ends in a 3x3 max-pool and
    its shortcut is a strided 1x1 conv, otherwise the shortcut is the identity."""

    def __init__(self, widths: list[int], stride: int = 1, relu_first: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths, widths[1:])):
            if i or relu_first:
                layers.append(nn.ReLU(inplace=i > 0))  # the block's first ReLU must not overwrite the shortcut's input
            layers += separable(a, b)
        if stride > 1:
            layers.append(nn.MaxPool2d(3, stride, 1))
        self.layers = nn.Sequential(*layers)
        self.shortcut = (conv_bn(widths[0], widths[-1], 1, stride, act=None)
                         if stride > 1 or widths[0] != widths[-1] else nn.Identity())

    def forward(self, x: Tensor) -> Tensor:
        return self.shortcut(x) + self.layers(x)


class Xception(nn.Module):
    """Entry flow (two plain convs, three strided blocks), middle flow, exit flow: stride 32, 2048 channels."""

    def __init__(self, in_chans: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(
            *conv_bn(in_chans, 32, 3, 2), *conv_bn(32, 64),
            XceptionBlock([64, 128, 128], 2, relu_first=False),
            XceptionBlock([128, 256, 256], 2),
            XceptionBlock([256, 728, 728], 2),
            *(XceptionBlock([728, 728, 728, 728]) for _ in range(MIDDLE_BLOCKS)),
            XceptionBlock([728, 728, 1024], 2),
            *separable(1024, 1536), nn.ReLU(inplace=True),
            *separable(1536, 2048), nn.ReLU(inplace=True),
        )
        self.out_chans = 2048

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)


@register_model
def xception(num_keypoints: int, in_chans: int = 1, image_size: int = 96) -> nn.Module:
    return pooled_regressor(Xception(in_chans), num_keypoints, in_chans, image_size)
