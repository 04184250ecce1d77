"""Sets labelled in different schemes, trained together: each keeps its own labels.

The combined set's points stack one block per scheme side by side (the model's scheme first,
then each other scheme once), masked where a row has no label of that scheme. The model still
outputs its own scheme only; training maps its outputs into every block (schemes.mapping_matrix,
refined by training/heads.py) and scores each label where it was given. No label is converted,
so a human eye-centre label supervises the eye's contour points as it is, not as a guess of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facepoints.data.keypoint_set import KeypointSet, concatenate
from facepoints.schemes import Scheme, get_scheme, mapping_matrix


@dataclass(frozen=True)
class StackedScheme(Scheme):
    """A scheme whose keypoints are the blocks of ``parts`` side by side; ``parts[0]`` is the
    scheme the model outputs. Flip pairs stay within each block."""

    parts: tuple[str, ...] = ()

    @property
    def target(self) -> Scheme:
        return get_scheme(self.parts[0])

    def block(self, part: str) -> slice:
        """Columns of ``part``'s labels."""
        start = 0
        for name in self.parts:
            size = get_scheme(name).num_keypoints
            if name == part:
                return slice(start, start + size)
            start += size
        raise KeyError(f"{part!r} is not a part of {self.name!r}")

    def mapping(self) -> np.ndarray:
        """(K_stacked, K_target): every block's points from the model's outputs."""
        return np.concatenate([mapping_matrix(self.parts[0], name) for name in self.parts])


def stack_schemes(parts: list[str]) -> StackedScheme:
    """The stacked scheme of ``parts`` (the model's scheme first). Every other part must be
    reachable from the first by a mapping (ValueError names the one that is not)."""
    names, pairs, start = [], [], 0
    for name in parts:
        scheme = get_scheme(name)
        if name != parts[0]:
            try:
                mapping_matrix(parts[0], name)
            except ValueError:
                raise ValueError(f"cannot train {parts[0]} (the first --data's scheme) on {name} labels: no mapping "
                                 f"from {parts[0]} to {name}; put a set of the richer scheme first") from None
        names += [f"{name}:{n}" for n in scheme.names] if name != parts[0] else list(scheme.names)
        pairs += [(start + a, start + b) for a, b in scheme.flip_pairs]
        start += scheme.num_keypoints
    return StackedScheme(name="+".join(parts), names=tuple(names), flip_pairs=tuple(pairs),
                         description="labels of several schemes, one block each", parts=tuple(parts))


def target_scheme(scheme: Scheme) -> Scheme:
    """The scheme a model trained on a set of ``scheme`` outputs."""
    return scheme.target if isinstance(scheme, StackedScheme) else scheme


def stack_sets(sets: list[KeypointSet], names: list[str]) -> KeypointSet:
    """One training set from sets of different schemes (same image size and channels); the
    first set's scheme is the model's. Points are placed in their scheme's block."""
    parts = list(dict.fromkeys(ks.scheme.name for ks in sets))
    stacked = stack_schemes(parts)
    widened = []
    for ks in sets:
        columns = stacked.block(ks.scheme.name)
        points = np.zeros((len(ks), stacked.num_keypoints, 2), np.float32)
        mask = np.zeros((len(ks), stacked.num_keypoints), bool)
        points[:, columns], mask[:, columns] = ks.points, ks.mask
        widened.append(KeypointSet(ks.images, points, mask, stacked, ks.groups, ks.rows, ks.source, ks.framing))
    return concatenate(widened, names)


def block_of(ks: KeypointSet, part: str) -> KeypointSet:
    """The rows of a stacked set that label ``part``, with only that block's points."""
    columns = ks.scheme.block(part)
    rows = ks.mask[:, columns].any(1)
    sub = ks.subset(rows)
    return KeypointSet(sub.images, sub.points[:, columns], sub.mask[:, columns], get_scheme(part), sub.groups,
                       sub.rows, sub.source, sub.framing, sub.parts)
