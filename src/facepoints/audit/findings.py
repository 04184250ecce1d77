"""One observation of one check about one face: what every check returns."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("label", "duplicate", "image")


@dataclass(frozen=True)
class Finding:
    index: int  # position in the KeypointSet (not the file's row: suspects.py maps it)
    kind: str  # one of KINDS
    score: float  # robust standard deviations from a typical face on that check: comparable across checks
    reason: str  # one line a person can act on, e.g. "nose_tip 14 px from where the face puts it"
