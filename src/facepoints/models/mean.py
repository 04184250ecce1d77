"""The mean-shape benchmark: one learnable shape returned for every face, whatever the image."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .common import to_normalized, to_pixels
from .registry import register_model


class MeanShape(nn.Module):
    """Predicts the same (K, 2) points for every input; trained with MSE it converges to the mean."""

    def __init__(self, num_keypoints: int, in_chans: int = 1, image_size: int = 96) -> None:
        super().__init__()
        self.num_keypoints, self.in_chans, self.image_size = num_keypoints, in_chans, image_size
        # Normalised like every regression head, so one learning rate suits all models.
        self.shape = nn.Parameter(torch.zeros(num_keypoints, 2))

    def forward(self, x: Tensor) -> Tensor:
        # Batch first, then arithmetic: torch 2.11's dynamo ONNX exporter fails on arithmetic
        # done on a parameter alone.
        return to_pixels(self.shape.expand(x.shape[0], -1, -1), self.image_size)

    @torch.no_grad()
    def fit(self, points: Tensor, mask: Tensor) -> MeanShape:
        """Set the shape to the mean of the labelled points: the MSE optimum, without training.

        points: (N, K, 2) pixels; mask: (N, K) true where a point is labelled (others may be NaN).
        A keypoint labelled nowhere keeps its current value.
        """
        points = torch.as_tensor(points, dtype=torch.float32)
        mask = torch.as_tensor(mask, dtype=torch.bool)
        if points.shape[1:] != (self.num_keypoints, 2) or mask.shape != points.shape[:2]:
            raise ValueError(
                f"expected points (N, {self.num_keypoints}, 2) and mask (N, {self.num_keypoints}), "
                f"got {tuple(points.shape)} and {tuple(mask.shape)}"
            )
        counts = mask.sum(0).unsqueeze(-1)
        total = torch.where(mask.unsqueeze(-1), points, 0.0).sum(0)
        mean = to_normalized(total / counts.clamp(min=1), self.image_size)
        self.shape.copy_(torch.where(counts > 0, mean, self.shape))
        return self


@register_model
def mean(num_keypoints: int, in_chans: int = 1, image_size: int = 96) -> MeanShape:
    return MeanShape(num_keypoints, in_chans, image_size)
