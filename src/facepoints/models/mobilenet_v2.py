"""MobileNetV2 (Sandler et al., 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
arXiv:1801.04381) and EfficientNet-Lite0 (Tan & Le, 2019, arXiv:1905.11946; the Lite variants of
the TensorFlow TPU repository drop squeeze-excitation, use ReLU6 and a fixed stem and head).

Both are a stem, a stack of inverted residuals (1x1 expand, depthwise kxk, linear 1x1 project) and
a 1x1 head conv to 1280 channels; they differ in the stack's kernel sizes and widths. torchvision's
and timm's definitions would do, but neither imports against the CPU torch build here.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from .backbone import pooled_regressor
from .common import conv_bn
from .registry import register_model

# (expansion, out channels, blocks, first stride, kernel) per stage.
MOBILENET_V2_STAGES = ((1, 16, 1, 1, 3), (6, 24, 2, 2, 3), (6, 32, 3, 2, 3), (6, 64, 4, 2, 3),
                       (6, 96, 3, 1, 3), (6, 160, 3, 2, 3), (6, 320, 1, 1, 3))
EFFICIENTNET_LITE0_STAGES = ((1, 16, 1, 1, 3), (6, 24, 2, 2, 3), (6, 40, 2, 2, 5), (6, 80, 3, 2, 3),
                             (6, 112, 3, 1, 5), (6, 192, 4, 2, 5), (6, 320, 1, 1, 3))


class InvertedResidual(nn.Module):
    """Expand (skipped at expansion 1), filter each channel, project linearly; add the input where
    shapes allow, since the thin bottleneck is what carries information between blocks."""

    def __init__(self, in_chans: int, out_chans: int, stride: int, expansion: int, kernel: int, eps: float) -> None:
        super().__init__()
        hidden = in_chans * expansion
        self.expand = conv_bn(in_chans, hidden, 1, act=nn.ReLU6, eps=eps) if expansion != 1 else nn.Identity()
        self.depthwise = conv_bn(hidden, hidden, kernel, stride, groups=hidden, act=nn.ReLU6, eps=eps)
        self.project = conv_bn(hidden, out_chans, 1, act=None, eps=eps)
        self.residual = stride == 1 and in_chans == out_chans

    def forward(self, x: Tensor) -> Tensor:
        out = self.project(self.depthwise(self.expand(x)))
        return x + out if self.residual else out


class InvertedResidualNet(nn.Module):
    """Stem conv (stride 2), the stages, a 1x1 conv to ``head_chans``: a (N, head_chans, H/32, W/32) map."""

    def __init__(self, stages: Sequence[tuple[int, int, int, int, int]], in_chans: int = 3,
                 stem_chans: int = 32, head_chans: int = 1280, eps: float = 1e-5) -> None:
        super().__init__()
        self.stem = conv_bn(in_chans, stem_chans, 3, 2, act=nn.ReLU6, eps=eps)
        blocks, width = [], stem_chans
        for expansion, out_chans, count, stride, kernel in stages:
            for i in range(count):
                blocks.append(InvertedResidual(width, out_chans, stride if i == 0 else 1, expansion, kernel, eps))
                width = out_chans
        self.blocks = nn.Sequential(*blocks)
        self.head = conv_bn(width, head_chans, 1, act=nn.ReLU6, eps=eps)
        self.out_chans = head_chans

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.blocks(self.stem(x)))


def mobilenet_v2_encoder(in_chans: int = 3) -> InvertedResidualNet:
    return InvertedResidualNet(MOBILENET_V2_STAGES, in_chans)


def efficientnet_lite0_encoder(in_chans: int = 3) -> InvertedResidualNet:
    # TensorFlow's batch-norm epsilon, which the published weights were trained with.
    return InvertedResidualNet(EFFICIENTNET_LITE0_STAGES, in_chans, eps=1e-3)


@register_model
def mobilenet_v2(num_keypoints: int, in_chans: int = 1, image_size: int = 96) -> nn.Module:
    return pooled_regressor(mobilenet_v2_encoder(in_chans), num_keypoints, in_chans, image_size)


@register_model
def efficientnet_lite0(num_keypoints: int, in_chans: int = 1, image_size: int = 96,
                       pretrained: bool = False) -> nn.Module:
    """``pretrained``: start the encoder from ImageNet weights (the ``[imagenet]`` extra)."""
    encoder = efficientnet_lite0_encoder(in_chans)
    if pretrained:
        from .imagenet import load_efficientnet_lite0

        load_efficientnet_lite0(encoder)
    return pooled_regressor(encoder, num_keypoints, in_chans, image_size)
