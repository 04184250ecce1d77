"""Exact and near duplicates among the real FKD faces, with copies appended."""

import io
import re

import numpy as np
import pytest
from PIL import Image

from facepoints.audit.crossval import fold_of_groups
from facepoints.audit.duplicates import find_duplicates
from facepoints.audit.features import working_images
from facepoints.data.fkd import read_groups

EXACT_SOURCES = [5, 700, 2100]
NEAR_SOURCES = [12, 345, 1500, 2222, 2800]
NEAR_SHIFTS = [(0, 3), (-2, 1), (4, -4), (1, 0), (-3, -2)]  # (dy, dx): content moved down / right


def shifted_reencoded(image: np.ndarray, dy: int, dx: int, quality: int) -> np.ndarray:
    padded = np.pad(image, 8, mode="edge")
    moved = padded[8 - dy:8 - dy + image.shape[0], 8 - dx:8 - dx + image.shape[1]]
    buffer = io.BytesIO()
    Image.fromarray(moved).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer))


@pytest.fixture(scope="module")
def with_copies(fkd):
    near = [shifted_reencoded(fkd.images[s], dy, dx, q)
            for s, (dy, dx), q in zip(NEAR_SOURCES, NEAR_SHIFTS, (55, 70, 80, 90, 95))]
    images = np.concatenate([fkd.images, fkd.images[EXACT_SOURCES], np.stack(near)])
    rows = np.arange(len(images))
    return find_duplicates(images, working_images(images), rows), len(fkd)


def test_exact_copies_are_found_and_grouped(with_copies):
    duplicates, n = with_copies
    reasons = {f.index: f.reason for f in duplicates.findings}
    for j, source in enumerate(EXACT_SOURCES):
        assert reasons[n + j] == f"exact duplicate of row {source}"
        assert duplicates.group[n + j] == duplicates.group[source]


def test_shifted_reencoded_copies_are_near_duplicates(with_copies):
    duplicates, n = with_copies
    reasons = {f.index: f.reason for f in duplicates.findings}
    for j, (source, (dy, dx)) in enumerate(zip(NEAR_SOURCES, NEAR_SHIFTS)):
        index = n + len(EXACT_SOURCES) + j
        assert reasons[index].startswith(f"near duplicate of row {source} (correlation ")
        assert float(re.search(r"correlation ([0-9.]+)", reasons[index]).group(1)) >= 0.99
        assert duplicates.group[index] == duplicates.group[source]
        words = [f"{abs(dx)} px {'right' if dx > 0 else 'left'}"] if dx else []
        words += [f"{abs(dy)} px {'down' if dy > 0 else 'up'}"] if dy else []
        assert "moved " + " and ".join(words) in reasons[index]


def test_different_people_are_never_duplicates(with_copies, fkd_dir):
    duplicates, n = with_copies
    identity = read_groups(fkd_dir / "training_identities.csv", n)
    real = [f for f in duplicates.findings if f.index < n]
    assert real, "consecutive frames of one shot should group"
    for finding in real:
        partner = int(re.search(r"of row (\d+)", finding.reason).group(1))
        assert identity[finding.index] == identity[partner], finding.reason
    for members in duplicates.groups():
        real_members = members[members < n]
        assert len(set(identity[real_members])) <= 1


def test_duplicates_score_above_typical_neighbours(with_copies):
    duplicates, n = with_copies
    scores = {f.index: f.score for f in duplicates.findings}
    assert all(scores[n + j] > 15 for j in range(len(EXACT_SOURCES)))
    assert all(scores[n + len(EXACT_SOURCES) + j] > 6 for j in range(len(NEAR_SOURCES)))


def test_a_group_stays_in_one_fold(with_copies):
    duplicates, _ = with_copies
    fold = fold_of_groups(duplicates.group)
    for members in duplicates.groups():
        assert len(set(fold[members])) == 1
    assert sorted(set(fold)) == [0, 1, 2, 3, 4]
