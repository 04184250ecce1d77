"""Left-right mirroring of keypoints, written once for NumPy arrays and torch tensors alike.

Mirroring an image maps pixel x to (W - 1) - x. Labels may sit in a frame offset by ``o`` from
pixel centres (1-based labels: o = 1); there the mirror maps x to (W - 1 + 2o) - x. A scheme's
flip permutation then swaps left and right slots: after a mirror the subject's left eye shows
where the right eye was. The runtime's flip test, the torch graph's (models.wrappers.FlipAveraged)
and augmentation's point mirror (transforms.hflip_points) all use these functions.
"""

from __future__ import annotations

from dataclasses import dataclass


def mirror_points(points, width: int, permutation, axis_offset=0.0):
    """(..., K, 2) points on an image -> the same keypoints on its mirror image; its own inverse.

    ``points`` is a NumPy array or a torch tensor, ``permutation`` an index of the same kind (or a
    sequence), ``axis_offset`` a float or a 0-dim tensor. Returns a new array or tensor."""
    mirrored = points[..., permutation, :]  # advanced indexing: a copy, safe to write into
    mirrored[..., 0] = (width - 1) + 2 * axis_offset - mirrored[..., 0]
    return mirrored


def average_with_mirror(direct, on_mirror, width: int, permutation, axis_offset=0.0):
    """The mean of a model's points on crops and its points on the mirrored crops, mapped back."""
    return (direct + mirror_points(on_mirror, width, permutation, axis_offset)) / 2


@dataclass(frozen=True)
class FlipTest:
    """Test-time flip as a model file records it: average each face with its mirror image.

    ``permutation`` swaps the scheme's left and right keypoints; ``axis_offset`` is the label
    frame's offset from pixel centres that the model learned (see the module docstring)."""

    permutation: tuple[int, ...]
    axis_offset: float

    def as_dict(self) -> dict:
        return {"permutation": list(self.permutation), "axis_offset": self.axis_offset}

    @classmethod
    def from_dict(cls, data: dict) -> "FlipTest":
        return cls(tuple(int(i) for i in data["permutation"]), float(data["axis_offset"]))
