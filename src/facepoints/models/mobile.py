"""A keypoint model for CPUs: a MobileNetV2-style encoder under `integral`'s decoder and soft-argmax.

`integral` spends most of its multiply-adds on full 3x3 convolutions at strides 2-8, and a
narrower copy of it is not much faster on ONNX Runtime (per-layer overhead stays). Here the stem
strides at once, every block is an inverted residual (Sandler et al., 2018: 1x1 expand, depthwise
3x3, 1x1 project) and the decoder's refinements are depthwise-separable: about a sixteenth of
`integral`'s compute at width 48, with the same heatmaps at stride 4 and the same read-out.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from .common import normalize_input
from .common import conv_bn
from .integral import HeatmapHead, HeatmapNet, TopDownDecoder
from .registry import register_model

STAGE_STRIDES = (4, 8, 16, 32)
HEATMAP_STRIDE = STAGE_STRIDES[0]


class InvertedResidual(nn.Module):
    """Expand with a 1x1, filter each channel with a 3x3, project back linearly; add the input
    where shapes allow. Depthwise filtering is what keeps it cheap."""

    def __init__(self, in_chans: int, out_chans: int, stride: int = 1, expand: int = 4) -> None:
        super().__init__()
        hidden = in_chans * expand
        self.block = nn.Sequential(
            conv_bn(in_chans, hidden, 1),
            *conv_bn(hidden, hidden, 3, stride, groups=hidden),  # unpacked: the bundled weights' layout
            conv_bn(hidden, out_chans, 1, act=None),
        )
        self.residual = stride == 1 and in_chans == out_chans

    def forward(self, x: Tensor) -> Tensor:
        out = self.block(x)
        return x + out if self.residual else out


class MobileIntegralNet(HeatmapNet):
    """Strided stem, inverted-residual stages at strides 4-32, separable top-down decoder,
    per-keypoint heatmaps at stride 4 read out by soft-argmax."""

    def __init__(self, num_keypoints: int, in_chans: int = 1, image_size: int = 128,
                 widths: Sequence[int] = (16, 24, 48, 96, 160), depths: Sequence[int] = (2, 3, 3, 2),
                 expand: int = 4, decoder_width: int = 64) -> None:
        super().__init__()
        if len(widths) != len(STAGE_STRIDES) + 1 or len(depths) != len(STAGE_STRIDES):
            raise ValueError(f"widths needs {len(STAGE_STRIDES) + 1} entries (stem first) and depths "
                             f"{len(STAGE_STRIDES)}, got {len(widths)} and {len(depths)}")
        if image_size % STAGE_STRIDES[-1]:
            raise ValueError(f"image_size must be divisible by {STAGE_STRIDES[-1]}, got {image_size}")
        self.num_keypoints, self.in_chans, self.image_size = num_keypoints, in_chans, image_size
        self.stride = HEATMAP_STRIDE
        self.stem = conv_bn(in_chans, widths[0], 3, stride=2)
        stages, width = [], widths[0]
        for out_width, depth in zip(widths[1:], depths, strict=True):
            blocks = [InvertedResidual(width, out_width, 2, expand)]
            blocks += [InvertedResidual(out_width, out_width, 1, expand) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*blocks))
            width = out_width
        self.stages = nn.ModuleList(stages)
        self.decoder = TopDownDecoder(widths[1:], decoder_width, separable=True)
        self.head = HeatmapHead(decoder_width, num_keypoints)

    def heatmaps(self, x: Tensor) -> Tensor:
        """(N, K, H/4, W/4) heatmap logits, float32; softmax gives each point's belief."""
        features, x = [], self.stem(normalize_input(x))
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return self.head(self.decoder(features))


@register_model
def mobile(num_keypoints: int, in_chans: int = 1, image_size: int = 128, **cfg) -> MobileIntegralNet:
    return MobileIntegralNet(num_keypoints, in_chans, image_size, **cfg)
