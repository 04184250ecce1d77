"""Wrong labels: the real FKD set's own, and ones planted where the audit saw none."""

import re

import numpy as np

from facepoints.audit.labels import SUSPECT_Z, misplaced_reason, swap_reason
from facepoints.schemes import FKD15, IBUG68

NOSE, LEFT_EYE, RIGHT_EYE = 10, 0, 1


def ranks(result) -> dict[int, int]:
    return {s.index: rank for rank, s in enumerate(result.suspects)}


def test_real_swapped_eyes_lead_the_suspects(fkd, fkd_audit):
    # The subject's left eye is on the image's right: a left eye labelled left of the right eye is swapped.
    swapped = np.flatnonzero(fkd.mask[:, LEFT_EYE] & (fkd.points[:, LEFT_EYE, 0] < fkd.points[:, RIGHT_EYE, 0]))
    assert len(swapped) == 8
    by_index = {s.index: s for s in fkd_audit.suspects}
    for index in swapped:
        assert by_index[index].reason == "left/right eye_center swapped"
    assert max(ranks(fkd_audit)[i] for i in swapped) < 12


def test_real_label_suspects_are_a_few_percent(fkd_audit):
    labels = [s for s in fkd_audit.suspects if s.kind == "label"]
    assert 20 <= len(labels) <= 120
    assert all(s.score >= SUSPECT_Z for s in labels)
    assert all(re.fullmatch(r".+ (swapped|\d+ px( and \w+ \d+ px)? from where the face puts (it|them)"
                            r"(; on the picture's edge \(clipped\?\))?|\d+ px off the face's shape)", s.reason)
               for s in labels)
    clipped = [s for s in labels if s.reason.endswith("(clipped?)")]
    assert any("off the face's shape" in s.reason for s in labels)  # the geometric check adds faces
    assert clipped and all(fkd_audit.keypoints.points[s.index][fkd_audit.labels.culprits[s.index]].max() >= 95.5
                           or fkd_audit.keypoints.points[s.index][fkd_audit.labels.culprits[s.index]].min() <= 0.5
                           for s in clipped)


def test_planted_swaps_are_found_and_named(planted):
    result, _, swap_rows = planted
    by_index, rank = {s.index: s for s in result.suspects}, ranks(result)
    for index in swap_rows:
        assert by_index[index].reason == "left/right eye_center swapped"
        assert rank[index] < 20
        assert result.labels.culprits[index, [LEFT_EYE, RIGHT_EYE]].all()


def test_planted_nose_displacements_are_found_and_measured(planted):
    result, nose_rows, _ = planted
    by_index = {s.index: s for s in result.suspects}
    found = [i for i in nose_rows if i in by_index and by_index[i].reason.startswith("nose_tip ")]
    assert len(found) >= 7, [by_index.get(i) for i in nose_rows]
    for index in found:
        measured = int(re.match(r"nose_tip (\d+) px from where the face puts it", by_index[index].reason).group(1))
        assert 7 <= measured <= 18
    order = np.argsort(-result.labels.score)
    position = np.empty(len(order), int)
    position[order] = np.arange(len(order))
    assert np.median(position[nose_rows]) < 80  # of 2,811 faces


def test_reason_words():
    assert swap_reason(FKD15, [(0, 1)]) == "left/right eye_center swapped"
    assert swap_reason(FKD15, [(0, 1), (11, 12)]) == "left/right eye_center, mouth_corner swapped"
    assert swap_reason(IBUG68, [(0, 16)]) == "jaw_0/jaw_16 swapped"
    assert misplaced_reason(FKD15, {10: 14.2}) == "nose_tip 14 px from where the face puts it"
    assert misplaced_reason(FKD15, {10: 14.2, 14: 9.0}) == (
        "nose_tip 14 px and mouth_center_bottom_lip 9 px from where the face puts them")
    assert misplaced_reason(FKD15, {14: 22}, clipped=True) == (
        "mouth_center_bottom_lip 22 px from where the face puts it; on the picture's edge (clipped?)")
