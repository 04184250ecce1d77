"""Wrong labels: keypoints that disagree with the face, and left/right sides swapped.

Confident-learning style: a model that never saw a face's labels says where the keypoints are;
a robust model of how its misses go together (residuals.py) says which labels are too far from
that to be the model's fault. A swap is named when exchanging a flip pair's labels explains the
face: it cuts the face's offsets to a fraction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from facepoints.audit.crossval import cross_validated_points
from facepoints.audit.features import working_scale
from facepoints.audit.findings import Finding
from facepoints.audit.residuals import OffsetModel, disagreement, fit_offset_model, left_out_given
from facepoints.data.keypoint_set import KeypointSet
from facepoints.schemes import Scheme

SUSPECT_Z = 5.0  # a 2-D Gaussian exceeds this once in 270,000 keypoints; real misses far more often
SWAP_GAIN = 0.25  # a swap explains a face when it cuts the offsets' mean squared distance to this
MAX_NAMED = 2  # keypoints a reason names; each is measured from the face's other, unsuspected labels
EDGE_PX = 0.5  # a label this close to the border was likely clipped there (FKD: 207 labels on 151 rows)


@dataclass
class LabelCheck:
    predicted: np.ndarray  # (N, K, 2) cross-validated model prediction, image pixels
    z: np.ndarray  # (N, K) each label's distance from where the face puts it, in SDs (NaN: untested)
    score: np.ndarray  # (N,) the face's largest z, keypoints and flip pairs
    culprits: np.ndarray  # (N, K) the labels a finding names
    expected: np.ndarray  # (N, K, 2) where the face puts each culprit (its partner's label if swapped)
    findings: list[Finding]


def check_labels(ks: KeypointSet, features: np.ndarray, fold: np.ndarray,
                 on_fold: Callable[[], None] | None = None) -> LabelCheck:
    """Test every labelled keypoint of every face; findings for faces scoring SUSPECT_Z or more."""
    scale = working_scale(ks.images)
    points = ks.points * scale
    predicted, known = cross_validated_points(features, points, ks.mask, fold, on_fold)
    tested = ks.mask & known
    offsets = points - predicted
    model = fit_offset_model(offsets, tested)
    pairs = ks.scheme.flip_pairs
    tests = disagreement(model, offsets, tested, pairs)
    with np.errstate(invalid="ignore"):
        score = np.nan_to_num(np.fmax(_row_max(tests.z), _row_max(tests.pair_z)))
    height, width = ks.image_size
    on_edge = ks.mask & ((ks.points <= EDGE_PX) | (ks.points >= np.array([width, height]) - EDGE_PX)).any(axis=2)
    culprits = np.zeros(ks.mask.shape, bool)
    expected = np.zeros(ks.points.shape, np.float32)
    findings = []
    for index in np.flatnonzero(score >= SUSPECT_Z):
        swapped = explaining_swap(model, points[index], predicted[index], tested[index], pairs)
        if swapped:
            reason = swap_reason(ks.scheme, swapped)
            for a, b in swapped:
                culprits[index, [a, b]] = True
                expected[index, [a, b]] = ks.points[index, [b, a]]
        else:
            named = _suspected_keypoints(tests.z[index], tests.pair_z[index], pairs)
            given = tested[index] & ~np.isin(np.arange(len(tested[index])), named)
            misses = {}
            for rank, k in enumerate(named):
                z, miss = left_out_given(model, offsets[index], given, k)
                if rank and z < SUSPECT_Z:  # was only off beside a wrong label
                    continue
                misses[k] = float(np.linalg.norm(miss / scale))
                culprits[index, k] = True
                expected[index, k] = (points[index, k] - miss) / scale
            reason = misplaced_reason(ks.scheme, misses, clipped=bool(on_edge[index, list(misses)].any()))
        findings.append(Finding(int(index), "label", float(score[index]), reason))
    return LabelCheck(predicted / scale, tests.z, score, culprits, expected, findings)


def _suspected_keypoints(z: np.ndarray, pair_z: np.ndarray, pairs) -> list[int]:
    """The keypoints at SUSPECT_Z or more, worst first, at most MAX_NAMED; else the worst pair."""
    named = [int(k) for k in np.argsort(-np.nan_to_num(z)) if z[k] >= SUSPECT_Z][:MAX_NAMED]
    return named or list(pairs[int(np.nanargmax(pair_z))])


def explaining_swap(model: OffsetModel, labels: np.ndarray, predicted: np.ndarray, tested: np.ndarray,
                    pairs: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """The flip pairs whose exchange explains one face's labels, chosen greedily; [] if none."""
    def badness(candidate: np.ndarray) -> float:
        return float(model.mean_squared_distance((candidate - predicted)[None], tested[None])[0])

    current, chosen = labels.copy(), []
    while True:
        trials = []
        for a, b in pairs:
            if tested[a] and tested[b] and (a, b) not in chosen:
                trial = current.copy()
                trial[[a, b]] = trial[[b, a]]
                trials.append((badness(trial), (a, b), trial))
        if not trials:
            return chosen
        best, pair, trial = min(trials, key=lambda t: t[0])
        if best > SWAP_GAIN * badness(current):
            return chosen
        chosen.append(pair)
        current = trial


def swap_reason(scheme: Scheme, swapped: list[tuple[int, int]]) -> str:
    """e.g. "left/right eye_center swapped" (fkd15) or "jaw_0/jaw_16 swapped" (ibug68)."""
    parts = []
    for a, b in swapped:
        side_free = [_without_side(scheme.names[a]), _without_side(scheme.names[b])]
        same = side_free[0] == side_free[1]
        parts.append(side_free[0] if same else f"{scheme.names[a]}/{scheme.names[b]}")
    sided = all(_without_side(scheme.names[a]) == _without_side(scheme.names[b]) for a, b in swapped)
    return ("left/right " if sided else "") + ", ".join(parts) + " swapped"


def misplaced_reason(scheme: Scheme, misses: dict[int, float], clipped: bool = False) -> str:
    """e.g. "nose_tip 14 px from where the face puts it"; misses: pixels off, by keypoint;
    clipped: a named label lies on the picture's border, where an outside point was likely moved."""
    words = [f"{scheme.names[k]} {miss:.0f} px" for k, miss in misses.items()]
    where = " from where the face puts it" if len(words) == 1 else " from where the face puts them"
    return " and ".join(words) + where + ("; on the picture's edge (clipped?)" if clipped else "")


def _without_side(name: str) -> str:
    return "_".join(part for part in name.split("_") if part not in ("left", "right"))


def _row_max(values: np.ndarray) -> np.ndarray:
    """Largest non-NaN value of each row, NaN where a row has none (no warning)."""
    filled = np.where(np.isnan(values), -np.inf, values)
    result = filled.max(axis=1) if values.shape[1] else np.full(len(values), -np.inf)
    return np.where(np.isinf(result), np.nan, result)
