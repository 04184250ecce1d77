"""Kaggle submission files from the real lookup table."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from facepoints.data.fkd import IdLookup, read_id_lookup
from facepoints.errors import DataError
from facepoints.submission import write_submission


@pytest.fixture(scope="module")
def lookup(fkd_dir) -> IdLookup:
    return read_id_lookup(fkd_dir / "IdLookupTable.csv")


def _predictions(image_ids: np.ndarray) -> np.ndarray:
    """Distinct, traceable values: image i, keypoint k, axis a -> i + k / 100 + a / 1000."""
    keypoint = np.arange(15)[None, :, None] / 100
    axis = np.arange(2)[None, None, :] / 1000
    return (image_ids[:, None, None] % 90 + keypoint + axis).astype(np.float32)


def _read_rows(path) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_round_trip_against_sample_submission(tmp_path, fkd_dir, lookup):
    image_ids = np.arange(626, 0, -1)  # any order: predictions are found by image id
    predictions = _predictions(image_ids)
    path = tmp_path / "submission.csv"
    write_submission(path, lookup, image_ids, predictions)

    written = _read_rows(path)
    sample = _read_rows(fkd_dir / "SampleSubmission.csv")
    assert written[0] == ["RowId", "Location"] == sample[0]
    assert [row[0] for row in written[1:]] == [row[0] for row in sample[1:]]
    assert len(written) == 9453

    values = np.array([float(row[1]) for row in written[1:]])
    expected = lookup.image_ids % 90 + lookup.keypoints / 100 + lookup.axes / 1000
    np.testing.assert_allclose(values, expected, atol=1e-4)
    assert [p.name for p in tmp_path.iterdir()] == ["submission.csv"]  # no temporary left


def test_values_are_clipped_to_the_image(tmp_path, lookup):
    image_ids = np.arange(1, 627)
    predictions = np.full((626, 15, 2), -5.0, dtype=np.float32)
    predictions[:, :, 1] = 120.0
    path = tmp_path / "submission.csv"
    write_submission(path, lookup, image_ids, predictions, image_size=96)
    values = np.array([float(row[1]) for row in _read_rows(path)[1:]])
    np.testing.assert_array_equal(values, np.where(lookup.axes == 0, 0.0, 96.0))


def test_missing_prediction_names_the_lookup(tmp_path, lookup):
    image_ids = np.arange(1, 626)  # 626 is absent
    with pytest.raises(DataError) as caught:
        write_submission(tmp_path / "s.csv", lookup, image_ids, _predictions(image_ids))
    message = str(caught.value)
    assert "IdLookupTable.csv" in message and "ImageId 626, which has no prediction" in message
    assert not (tmp_path / "s.csv").exists()


def test_prediction_shape_is_checked(tmp_path, lookup):
    image_ids = np.arange(1, 627)
    with pytest.raises(ValueError, match=r"shape \(626, 15\), expected \(626, 15, 2\)"):
        write_submission(tmp_path / "s.csv", lookup, image_ids, np.zeros((626, 15)))
