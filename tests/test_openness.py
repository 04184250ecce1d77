"""Eye and mouth aspect ratios on real labelled faces, and blinks on a synthetic sequence made from
a real face whose eyelids are closed for some frames."""

import numpy as np
import pytest

from facepoints.data.landmarks import read_landmark_csv
from facepoints.openness import BLINK_THRESHOLD, BlinkCounter, openness


@pytest.fixture(scope="module")
def face(shared_data):
    samples, _ = read_landmark_csv(shared_data / "w300" / "faces" / "keypoints.csv")
    return samples[0].points


def closed(points: np.ndarray, share: float) -> np.ndarray:
    """The eyelids moved toward each other: share 1 shuts the eyes."""
    out = points.copy()
    for upper, lower in [((37, 38), (41, 40)), ((43, 44), (47, 46))]:
        middle = (out[list(upper)] + out[list(lower)]) / 2
        out[list(upper)] += share * (middle - out[list(upper)])
        out[list(lower)] += share * (middle - out[list(lower)])
    return out


def test_open_eyes_are_above_the_blink_threshold_and_shut_ones_below(face, shared_data):
    samples, _ = read_landmark_csv(shared_data / "w300" / "faces" / "keypoints.csv")
    ratios = np.array([openness(s.points).eyes for s in samples[:200]])
    assert np.median(ratios) > BLINK_THRESHOLD + 0.05
    assert openness(closed(face, 1.0)).eyes < 0.02
    assert openness(closed(face, 0.5)).eyes == pytest.approx(openness(face).eyes / 2, rel=0.05)


def test_mouth_ratio_grows_as_the_mouth_opens(face):
    opened = face.copy()
    opened[65:68] += (0, 10)
    opened[57:60] += (0, 10)
    assert openness(opened).mouth > openness(face).mouth + 0.1


def run(frames: list[np.ndarray], rate: float = 30.0) -> list[dict]:
    counter = BlinkCounter()
    for i, points in enumerate(frames):
        counter(i / rate, {7: openness(points).eyes})
    return counter.finish()


def test_a_blink_of_a_few_frames_is_found_with_its_times(face):
    frames = [face] * 10 + [closed(face, 0.6), closed(face, 1.0), closed(face, 1.0), closed(face, 0.6)] + [face] * 10
    (blink,) = run(frames)
    assert blink["track"] == 7 and blink["start"] == pytest.approx(10 / 30) and blink["end"] == pytest.approx(14 / 30)


def test_eyes_kept_shut_or_half_closed_are_no_blink(face):
    assert run([face] * 5 + [closed(face, 1.0)] * 30 + [face] * 5) == []  # 1 s shut: not a blink
    assert run([face] * 5 + [closed(face, 0.3)] * 4 + [face] * 5) == []  # squint: above the threshold
    assert len(run(([face] * 8 + [closed(face, 1.0)] * 3) * 3 + [face])) == 3
