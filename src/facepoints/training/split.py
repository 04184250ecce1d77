"""Validation splits that keep every identity (or photo) on one side, so scores don't lie."""

from __future__ import annotations

import numpy as np

from facepoints.data import KeypointSet


def split_by_group(ks: KeypointSet, val_fraction: float, seed: int) -> tuple[KeypointSet, KeypointSet]:
    """Hold out whole groups until about ``val_fraction`` of the rows are held out.

    Without groups every row is its own group: near-duplicate frames then leak across sides."""
    n = len(ks)
    if val_fraction <= 0:
        return ks, ks.subset(np.zeros(n, dtype=bool))
    groups = ks.groups if ks.groups is not None else np.arange(n).astype(str)
    unique, counts = np.unique(groups, return_counts=True)
    order = np.random.default_rng(seed).permutation(len(unique))
    take = order[: np.searchsorted(np.cumsum(counts[order]), val_fraction * n) + 1]
    is_val = np.isin(groups, unique[take])
    return ks.subset(~is_val), ks.subset(is_val)


def held_out(ks: KeypointSet, val_rows: list[str], name: str) -> KeypointSet:
    """The rows of ``ks`` that a run held out (its split.json's ``val_rows``).

    A run that read several sets names its rows ``set:row``; ``name`` (the file's stem) lets one
    of those sets, read alone, find its own held-out rows. Recomputing the split from ``ks``
    instead would draw other groups, and score rows the model was trained on."""
    rows = ks.rows.astype(str)
    wanted = list(val_rows)
    return ks.subset(np.isin(rows, wanted) | np.isin(np.char.add(f"{name}:", rows), wanted))
