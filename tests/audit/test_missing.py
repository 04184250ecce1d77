"""Missing-value statistics of the real FKD set: Kaggle's pattern, in numbers."""

import numpy as np

from facepoints.audit.missing import describe_pattern, missing_stats
from facepoints.schemes import FKD15


def test_patterns_of_the_real_set(fkd):
    stats = missing_stats(fkd.mask, FKD15)
    core_only, complete = stats.patterns[0], stats.patterns[1]
    assert core_only.rows == 1880 and 0.66 < core_only.share < 0.67
    assert core_only.description == "4 keypoints (left_eye_center, right_eye_center, nose_tip, mouth_center_bottom_lip)"
    assert complete.rows == 828 and complete.description == "all 15 keypoints"
    assert sum(p.rows for p in stats.patterns) == 2811
    assert stats.lines()[0].endswith(": 1880 rows, 66.9%")


def test_counts_per_keypoint(fkd):
    stats = missing_stats(fkd.mask, FKD15)
    assert dict(zip(stats.names, stats.labelled.tolist()))["left_eye_center"] == 2811
    assert dict(zip(stats.names, stats.labelled.tolist()))["nose_tip"] == 2792
    assert stats.labelled.tolist() == fkd.mask.sum(axis=0).tolist()


def test_pattern_words_name_the_few():
    names = FKD15.names
    one_missing = np.ones(15, bool)
    one_missing[FKD15.index("left_eyebrow_inner_end")] = False
    assert describe_pattern(one_missing, names) == "14 keypoints (all but left_eyebrow_inner_end)"
    middle = np.zeros(15, bool)
    middle[:8] = True
    assert describe_pattern(middle, names) == "8 keypoints"
    assert describe_pattern(np.zeros(15, bool), names) == "no keypoints"
