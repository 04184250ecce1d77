"""The default model: residual encoder, top-down decoder, one heatmap per keypoint, soft-argmax.

Integral regression (Sun et al., 2018) reads each keypoint as the expected position under the
softmax of its heatmap: differentiable, sub-pixel, trained directly on pixel coordinates, and
never outside the image. The encoder goes down to 1/16 for a face-wide receptive field; the
decoder brings that context back to 1/4 (by default), where the heatmaps are read.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .common import conv_bn, normalize_input
from .registry import register_model

ENCODER_STRIDES = (2, 4, 8, 16)


class ResidualBlock(nn.Module):
    """ResNet's basic block: two 3x3 convs plus a (projected where shapes change) shortcut."""

    def __init__(self, in_chans: int, out_chans: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = conv_bn(in_chans, out_chans, 3, stride)
        self.conv2 = conv_bn(out_chans, out_chans, 3, act=None)
        self.shortcut = (
            nn.Identity() if stride == 1 and in_chans == out_chans
            else conv_bn(in_chans, out_chans, 1, stride, act=None)
        )

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.conv2(self.conv1(x)) + self.shortcut(x))


class Encoder(nn.Module):
    """A full-resolution stem, then residual stages at strides 2, 4, 8 and 16."""

    def __init__(self, in_chans: int, widths: Sequence[int], depths: Sequence[int]) -> None:
        super().__init__()
        # The stem's full-resolution conv keeps fine detail that striding would alias away.
        self.stem = conv_bn(in_chans, widths[0] // 2)
        stages, width = [], widths[0] // 2
        for out_width, depth in zip(widths, depths, strict=True):
            blocks = [ResidualBlock(width, out_width, stride=2)]
            blocks += [ResidualBlock(out_width, out_width) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*blocks))
            width = out_width
        self.stages = nn.ModuleList(stages)

    def forward(self, x: Tensor) -> list[Tensor]:
        """Feature maps at strides 2, 4, 8, 16 (finest first)."""
        features, x = [], self.stem(x)
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features


def separable_conv_bn(chans: int) -> nn.Sequential:
    """A depthwise 3x3 then a pointwise 1x1: a 3x3's reach at about an eighth of its multiply-adds
    (9C + C^2 against 9C^2 per pixel, at the decoder's C = 64)."""
    return nn.Sequential(*conv_bn(chans, chans, 3, groups=chans, act=None), conv_bn(chans, chans, 1))


class TopDownDecoder(nn.Module):
    """FPN-style: start from the coarsest map, upsample, add a 1x1 lateral, refine with a 3x3
    (full, or depthwise-separable where CPU time matters more than capacity)."""

    def __init__(self, in_widths: Sequence[int], width: int, separable: bool = False) -> None:
        super().__init__()
        self.laterals = nn.ModuleList(conv_bn(w, width, 1, act=None) for w in in_widths)
        self.refines = nn.ModuleList(
            separable_conv_bn(width) if separable else conv_bn(width, width) for _ in in_widths[:-1])

    def forward(self, features: Sequence[Tensor]) -> Tensor:
        """features: finest first, each twice the size of the next; returns the finest's size."""
        x = F.relu(self.laterals[-1](features[-1]))
        for i in reversed(range(len(features) - 1)):
            skip = self.laterals[i](features[i])
            x = self.refines[i](F.interpolate(x, size=skip.shape[-2:], mode="nearest") + skip)
        return x


def soft_argmax(logits: Tensor, stride: int) -> Tensor:
    """(N, K, h, w) heatmap logits -> (N, K, 2) expected (x, y) in input pixel coordinates.

    Cell i at stride s covers input pixels i*s .. i*s+s-1, so its centre is i*s + (s-1)/2.
    Computed in float32 under any autocast: bf16 keeps 8 significant bits, so coordinates
    near 90 px would be 0.5 px apart.
    """
    n, k, h, w = logits.shape
    with torch.autocast(logits.device.type, enabled=False):
        probs = logits.float().flatten(2).softmax(-1).view(n, k, h, w)
        xs = torch.arange(w, device=logits.device, dtype=torch.float32) * stride + (stride - 1) / 2
        ys = torch.arange(h, device=logits.device, dtype=torch.float32) * stride + (stride - 1) / 2
        x = (probs.sum(2) * xs).sum(-1)
        y = (probs.sum(3) * ys).sum(-1)
    return torch.stack((x, y), -1)


class HeatmapHead(nn.Conv2d):
    """1x1 convolution to per-keypoint heatmap logits, near-flat at init (an untrained net
    predicts about the image centre). It runs in float32 under any autocast: bf16 logits would
    blur the softmax's sub-pixel weights."""

    def __init__(self, in_chans: int, num_keypoints: int) -> None:
        super().__init__(in_chans, num_keypoints, 1)
        nn.init.normal_(self.weight, std=0.01)
        nn.init.zeros_(self.bias)

    def forward(self, features: Tensor) -> Tensor:
        with torch.autocast(features.device.type, enabled=False):
            return super().forward(features.float())


class HeatmapNet(nn.Module):
    """Keypoints as the soft-argmax of per-keypoint heatmaps. A subclass builds ``heatmaps(x)``
    at ``self.stride`` and names the module they are read from ``decoder``."""

    stride: int

    def heatmaps(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        return soft_argmax(self.heatmaps(x), self.stride)


class IntegralNet(HeatmapNet):
    """Residual encoder + top-down decoder + per-keypoint heatmaps read out by soft-argmax."""

    def __init__(self, num_keypoints: int, in_chans: int = 1, image_size: int = 96,
                 width: int = 32, depths: Sequence[int] = (1, 2, 2, 1),
                 decoder_width: int | None = None, heatmap_stride: int = 4) -> None:
        super().__init__()
        if heatmap_stride not in ENCODER_STRIDES[:-1]:
            raise ValueError(
                f"heatmap_stride must be one of {ENCODER_STRIDES[:-1]}, got {heatmap_stride}")
        if image_size % ENCODER_STRIDES[-1]:
            raise ValueError(
                f"image_size must be divisible by {ENCODER_STRIDES[-1]}, got {image_size}")
        self.num_keypoints, self.in_chans, self.image_size = num_keypoints, in_chans, image_size
        self.stride = heatmap_stride
        widths = [width * 2**i for i in range(len(ENCODER_STRIDES))]
        self.encoder = Encoder(in_chans, widths, depths)
        self._first_level = ENCODER_STRIDES.index(heatmap_stride)
        decoder_width = decoder_width or 2 * width
        self.decoder = TopDownDecoder(widths[self._first_level:], decoder_width)
        self.head = HeatmapHead(decoder_width, num_keypoints)

    def heatmaps(self, x: Tensor) -> Tensor:
        """(N, K, H/stride, W/stride) heatmap logits, float32; softmax gives each point's belief."""
        features = self.encoder(normalize_input(x))[self._first_level:]
        return self.head(self.decoder(features))


@register_model
def integral(num_keypoints: int, in_chans: int = 1, image_size: int = 96, **cfg) -> IntegralNet:
    return IntegralNet(num_keypoints, in_chans, image_size, **cfg)
