"""Inference-time compositions of trained models. They export to ONNX as one graph."""

from __future__ import annotations

import torch
from torch import nn

from facepoints.flip import average_with_mirror


class FlipAveraged(nn.Module):
    """Average a model's prediction with its mirrored prediction on the mirrored image
    (flip.average_with_mirror, with the axis offset the labels' frame has from pixel centres).

    Training validates with it; exported files leave it to the runtime (flip.FlipTest)."""

    def __init__(self, model: nn.Module, flip_permutation, label_offset: float):
        super().__init__()
        self.model = model
        self.register_buffer("flip_permutation", torch.as_tensor(flip_permutation, dtype=torch.long))
        self.register_buffer("label_offset", torch.tensor(float(label_offset)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        n, width = images.shape[0], images.shape[-1]
        both = self.model(torch.cat([images, images.flip(-1)], dim=0))
        return average_with_mirror(both[:n], both[n:], width, self.flip_permutation, self.label_offset)


class Ensemble(nn.Module):
    """Mean of independently trained members' predictions."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(images) for m in self.members]).mean(0)


class CorePlusFull(nn.Module):
    """The seed notebooks' two-model scheme: one model trained on every row for the keypoints
    nearly every row labels (core), one trained on complete rows for the rest."""

    def __init__(self, full: nn.Module, core: nn.Module, num_keypoints: int, core_indices):
        super().__init__()
        self.full, self.core = full, core
        is_core = torch.zeros(num_keypoints, dtype=torch.bool)
        is_core[list(core_indices)] = True
        self.register_buffer("is_core", is_core[None, :, None])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.where(self.is_core, self.core(images), self.full(images))
