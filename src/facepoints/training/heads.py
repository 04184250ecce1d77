"""The model's points mapped into every label scheme of a mixed set, by learned combinations.

schemes.py says what another scheme's keypoint is made of (an eye centre: the mean of the eye's
six contour points; a nose tip: point 30). A human's eye-centre label is the pupil, not exactly
that mean, and MTFL's nose tip is not exactly point 30 (docs/benchmarks.md measures both), so
each mapped point may move its weights within its region of the face (the whole eye, the nose,
the mouth), starting from the schemes.py mapping. Its weights always sum to one: an affine
combination of the model's points moves exactly as they do under any rotation, scale or mirror,
which a constant offset in pixels would not; and they are kept mirror-symmetric, so a mirrored
face asks the same of the model.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from facepoints.data.mixed import StackedScheme

# Regions of a scheme's points within which a mapped point may move its weights.
_REGIONS = {
    "ibug68": (range(0, 17), range(17, 22), range(22, 27), range(27, 36), range(36, 42), range(42, 48),
               range(48, 68)),
}


def _support(base: np.ndarray, target: str, learned_rows: np.ndarray) -> np.ndarray:
    """(K_stacked, K_target) bool: where a learned row may put weight."""
    support = base > 0
    for region in _REGIONS.get(target, ()):
        columns = list(region)
        touches = support[:, columns].any(1, keepdims=True)
        support[:, columns] |= touches
    return support & learned_rows[:, None]


class SchemeHeads(nn.Module):
    """(N, K_target, 2) model points -> (N, K_stacked, 2) points of every block of ``scheme``.

    The model's own block is the identity; each other row is the schemes.py mapping plus a learned
    change that sums to zero within the row's region."""

    def __init__(self, scheme: StackedScheme):
        super().__init__()
        self.scheme = scheme
        base = scheme.mapping()
        learned_rows = np.ones(len(base), bool)
        learned_rows[scheme.block(scheme.parts[0])] = False
        self.register_buffer("base", torch.from_numpy(base))
        self.register_buffer("support", torch.from_numpy(_support(base, scheme.parts[0], learned_rows)).float())
        self.register_buffer("stacked_flip", torch.as_tensor(scheme.flip_permutation()), persistent=False)
        self.register_buffer("target_flip", torch.as_tensor(scheme.target.flip_permutation()), persistent=False)
        self.change = nn.Parameter(torch.zeros_like(self.base))

    def weights(self) -> Tensor:
        change = self.change * self.support
        change = change - self.support * change.sum(1, keepdim=True) / self.support.sum(1, keepdim=True).clamp(min=1)
        change = (change + change[self.stacked_flip][:, self.target_flip]) / 2
        return self.base + change

    def forward(self, points: Tensor) -> Tensor:
        return torch.einsum("st,ntc->nsc", self.weights(), points.float())

    def mappings(self) -> dict[str, list[list[float]]]:
        """Each other scheme's learned (K_scheme, K_target) weights, for the model record."""
        weights = self.weights().detach().cpu().numpy()
        return {part: weights[self.scheme.block(part)].round(6).tolist() for part in self.scheme.parts[1:]}
