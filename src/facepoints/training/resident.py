"""Training data held whole on the training device and batched there.

A keypoint set is small (uint8 faces of 96-128 px), so it fits on any GPU many times over.
Kept there, a batch is one gather on the device: no host collation, no pinned copy, nothing that
makes the host wait each step. Every rank draws the same permutation (seed and epoch) and takes
its own equal share of it, as a distributed sampler would.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor

from facepoints.data import KeypointSet


class ResidentBatches:
    """One rank's batches of a keypoint set, moved to the trainer's device on first use.

    Training (``shuffle``): a fresh permutation each epoch, cut to an equal share per rank and to
    whole batches, so every rank takes the same number of steps; where the set combines several
    (``ks.parts``) and ``balance`` < 1, as many rows drawn with replacement, each part in
    proportion to its size ** balance. Validation: every row exactly once over all ranks, in order."""

    def __init__(self, ks: KeypointSet, batch_size: int, trainer: pl.Trainer, *, shuffle: bool, seed: int = 0,
                 balance: float = 1.0):
        self.tensors = (torch.from_numpy(np.ascontiguousarray(ks.images)), torch.from_numpy(ks.points),
                        torch.from_numpy(ks.mask))
        self.batch_size, self.trainer, self.shuffle, self.seed = batch_size, trainer, shuffle, seed
        self.weights = draw_weights(ks.parts, balance) if ks.parts is not None and balance != 1.0 else None

    def _rows(self) -> Tensor:
        count, rank, ranks = len(self.tensors[0]), self.trainer.global_rank, self.trainer.world_size
        if not self.shuffle:
            return torch.arange(rank, count, ranks)
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.trainer.current_epoch)
        if self.weights is None:
            rows = torch.randperm(count, generator=generator)
        else:
            rows = torch.multinomial(self.weights, count, replacement=True, generator=generator)
        rows = rows[rank::ranks][:count // ranks]
        whole = len(rows) // self.batch_size * self.batch_size
        return rows[:whole] if whole else rows  # a set smaller than one batch trains as one

    def __len__(self) -> int:  # as many rows as _rows draws, counted without drawing them
        count, rank, ranks = len(self.tensors[0]), self.trainer.global_rank, self.trainer.world_size
        if not self.shuffle:
            rows = len(range(rank, count, ranks))
        else:
            share = count // ranks
            rows = share // self.batch_size * self.batch_size or share
        return -(-rows // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        device = self.trainer.strategy.root_device
        if self.tensors[0].device != device:
            self.tensors = tuple(t.to(device) for t in self.tensors)
        rows = self._rows().to(device)
        for start in range(0, len(rows), self.batch_size):
            take = rows[start:start + self.batch_size]
            yield tuple(t.index_select(0, take) for t in self.tensors)


def draw_weights(parts: np.ndarray, balance: float) -> Tensor:
    """(N,) weights drawing each part in proportion to its size ** balance, its rows alike."""
    sizes = np.bincount(parts)
    return torch.from_numpy(sizes[parts].astype(np.float64) ** (balance - 1.0))
