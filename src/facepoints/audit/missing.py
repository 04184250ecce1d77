"""Which keypoints are missing, how often, and in which combinations (patterns)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facepoints.schemes import Scheme


@dataclass(frozen=True)
class Pattern:
    labelled: np.ndarray  # (K,) bool: the keypoints this pattern's rows label
    rows: int
    share: float  # of all rows
    description: str  # e.g. "4 keypoints (left_eye_center, right_eye_center, nose_tip, ...)"


@dataclass(frozen=True)
class MissingStats:
    rows: int
    names: tuple[str, ...]
    labelled: np.ndarray  # (K,) rows that label each keypoint
    patterns: list[Pattern]  # most common first

    def lines(self) -> list[str]:
        """e.g. "4 keypoints (...): 1880 rows, 66.9%", one line per pattern."""
        return [f"{p.description}: {p.rows} rows, {100 * p.share:.1f}%" for p in self.patterns]


def missing_stats(mask: np.ndarray, scheme: Scheme) -> MissingStats:
    patterns, counts = np.unique(mask, axis=0, return_counts=True)
    order = np.lexsort((-patterns.sum(axis=1), -counts))
    total = max(len(mask), 1)
    return MissingStats(
        rows=len(mask),
        names=scheme.names,
        labelled=mask.sum(axis=0),
        patterns=[Pattern(patterns[i], int(counts[i]), counts[i] / total, describe_pattern(patterns[i], scheme.names))
                  for i in order],
    )


def describe_pattern(labelled: np.ndarray, names: tuple[str, ...]) -> str:
    """Short words for a pattern: name the few labelled or the few missing keypoints."""
    count, total = int(labelled.sum()), len(names)
    missing = [n for n, known in zip(names, labelled) if not known]
    if count == total:
        return f"all {total} keypoints"
    if count == 0:
        return "no keypoints"
    if len(missing) <= 3:
        return f"{count} keypoints (all but {', '.join(missing)})"
    if count <= 4:
        return f"{count} keypoints ({', '.join(n for n, known in zip(names, labelled) if known)})"
    return f"{count} keypoints"
