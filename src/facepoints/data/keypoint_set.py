"""The in-memory form every reader returns and every trainer consumes."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from facepoints.crop import Framing
from facepoints.schemes import Scheme


@dataclass
class KeypointSet:
    """N same-size face images with keypoints.

    images: (N, H, W) or (N, H, W, C) uint8. points: (N, K, 2) float32 (x, y) in the image's
    pixels, 0 where unlabelled. mask: (N, K) bool, True where labelled: a missing keypoint is a
    mask, never a NaN. groups: (N,) identity or photo of each row, for honest splits.
    rows: (N,) row numbers in the source file, or sample names for photo sets: for messages and
    for excluding rows. parts: (N,) which of the combined sets each row came from (0, 1, ...), so
    training can draw small sets as often as large ones; None for a single set.
    """

    images: np.ndarray
    points: np.ndarray
    mask: np.ndarray
    scheme: Scheme
    groups: np.ndarray | None = None
    rows: np.ndarray | None = None
    source: str = ""
    framing: Framing | None = None  # how the crops were made from photos, where they were
    parts: np.ndarray | None = None

    def __post_init__(self):
        n = len(self.images)
        if self.rows is None:
            self.rows = np.arange(n)
        if not (len(self.points) == len(self.mask) == len(self.rows) == n):
            raise ValueError("images, points, mask and rows must have the same length")
        for name in ("groups", "parts"):
            if getattr(self, name) is not None and len(getattr(self, name)) != n:
                raise ValueError(f"{name} must have one entry per image")
        self.points = np.where(self.mask[..., None], self.points, 0.0).astype(np.float32)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.images.shape[1], self.images.shape[2]

    @property
    def channels(self) -> int:
        return 1 if self.images.ndim == 3 else self.images.shape[3]

    def subset(self, index) -> "KeypointSet":
        return replace(
            self,
            images=self.images[index],
            points=self.points[index],
            mask=self.mask[index],
            groups=None if self.groups is None else self.groups[index],
            rows=self.rows[index],
            parts=None if self.parts is None else self.parts[index],
        )

    def with_points(self, points: np.ndarray, mask: np.ndarray) -> "KeypointSet":
        return replace(self, points=points, mask=mask)


def concatenate(sets: list[KeypointSet], names: list[str]) -> KeypointSet:
    """One training set from several of the same scheme and image size.

    Groups are prefixed with each set's name (``faces68:Valerie_Harper``), so a split by group
    never merges two sets' groups, and rows likewise (``faces68:Valerie_Harper_30.jpg``)."""
    if len(sets) == 1:
        return sets[0]
    first = sets[0]
    for ks in sets[1:]:
        if ks.scheme != first.scheme or ks.images.shape[1:] != first.images.shape[1:]:
            raise ValueError(f"cannot combine {ks.source} ({ks.scheme.name}, {ks.images.shape[1:]}) with "
                             f"{first.source} ({first.scheme.name}, {first.images.shape[1:]})")

    def prefixed(values, name):
        return np.array([f"{name}:{v}" for v in values])

    return KeypointSet(
        images=np.concatenate([ks.images for ks in sets]),
        points=np.concatenate([ks.points for ks in sets]),
        mask=np.concatenate([ks.mask for ks in sets]),
        scheme=first.scheme,
        groups=None if any(ks.groups is None for ks in sets) else
        np.concatenate([prefixed(ks.groups, n) for ks, n in zip(sets, names)]),
        rows=np.concatenate([prefixed(ks.rows, n) for ks, n in zip(sets, names)]),
        source=" + ".join(ks.source for ks in sets),
        framing=first.framing,
        parts=np.concatenate([np.full(len(ks), i) for i, ks in enumerate(sets)]),
    )
