"""Packed crops: a round trip keeps points exact and images within JPEG error, in a file small
enough to carry to the GPU machine."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from facepoints.crop import PHOTO_FRAMING
from facepoints.data.aligned import aligned_crops
from facepoints.data.fkd import read_fkd_training
from facepoints.data.landmarks import read_landmark_csv
from facepoints.data.load import load_dataset
from facepoints.data.packed import load_packed, save_packed
from facepoints.errors import DataError

CARRY_LIMIT = 64 * 2**20  # what one call to the GPU machine carries


@pytest.fixture(scope="module")
def crops(shared_data):
    samples, scheme = read_landmark_csv(shared_data / "faces68" / "keypoints.csv")
    crops, _ = aligned_crops(samples[::20], scheme, source="faces68")
    return crops


def test_round_trip(crops, tmp_path):
    save_packed(crops, tmp_path / "faces.npz")
    back = load_packed(tmp_path / "faces.npz")
    assert back.images.shape == crops.images.shape and back.images.dtype == np.uint8
    np.testing.assert_array_equal(back.points, crops.points)
    np.testing.assert_array_equal(back.mask, crops.mask)
    np.testing.assert_array_equal(back.rows, crops.rows)
    np.testing.assert_array_equal(back.groups, crops.groups)
    assert back.scheme is crops.scheme and back.source == "faces68" and back.framing == PHOTO_FRAMING
    error = np.abs(back.images.astype(int) - crops.images)
    assert error.mean() < 2.0 and np.percentile(error, 99) <= 10
    # Colour order survives OpenCV's BGR: the channels' means stay where they were.
    np.testing.assert_allclose(back.images.mean(axis=(0, 1, 2)), crops.images.mean(axis=(0, 1, 2)), atol=1.0)
    assert [p.name for p in tmp_path.iterdir()] == ["faces.npz"]  # no temporary file left behind


def test_quality_trades_size_for_error(crops, tmp_path):
    save_packed(crops, tmp_path / "q95.npz", quality=95)
    save_packed(crops, tmp_path / "q70.npz", quality=70)
    assert (tmp_path / "q70.npz").stat().st_size < 0.7 * (tmp_path / "q95.npz").stat().st_size
    error95 = np.abs(load_packed(tmp_path / "q95.npz").images.astype(int) - crops.images).mean()
    error70 = np.abs(load_packed(tmp_path / "q70.npz").images.astype(int) - crops.images).mean()
    assert error95 < error70


def test_faces68_and_w300_fit_one_carry_at_128_px(crops, tmp_path):
    """Measured in full: faces68 23.4 MiB + w300 faces 17.0 MiB at quality 95."""
    save_packed(crops, tmp_path / "faces.npz")
    per_face = (tmp_path / "faces.npz").stat().st_size / len(crops)
    assert per_face * (3437 + 2012) < CARRY_LIMIT


def test_grey_images_and_numbered_rows(fkd_dir, tmp_path):
    fkd = read_fkd_training(fkd_dir / "training.zip").subset(slice(0, 50))
    save_packed(fkd, tmp_path / "fkd.npz")
    back = load_packed(tmp_path / "fkd.npz")
    assert back.images.shape == (50, 96, 96) and back.groups is None and back.framing is None
    np.testing.assert_array_equal(back.rows, np.arange(50))
    np.testing.assert_array_equal(back.points, fkd.points)
    assert np.abs(back.images.astype(int) - fkd.images).mean() < 2.0


def test_load_dataset_reads_packed_files(crops, tmp_path):
    save_packed(replace(crops, groups=crops.groups.astype(object)), tmp_path / "faces.npz")
    assert len(load_dataset(tmp_path / "faces.npz")) == len(crops)


def test_bad_files(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_packed(tmp_path / "none.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(DataError, match="not a packed crops .npz file"):
        load_packed(tmp_path / "text.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(DataError, match="not a facepoints-packed-1 file") as caught:
        load_packed(tmp_path / "other.npz")
    assert str(caught.value).startswith(str(tmp_path / "other.npz"))


def test_damaged_jpeg_is_named_by_row(crops, tmp_path):
    save_packed(crops.subset(slice(0, 3)), tmp_path / "faces.npz")
    with np.load(tmp_path / "faces.npz") as archive:
        arrays = dict(archive)
    start, end = arrays["jpeg_offsets"][1:3]
    arrays["jpeg_bytes"][start:end] = 0
    np.savez(tmp_path / "faces.npz", **arrays)
    with pytest.raises(DataError, match=f"image of row {crops.rows[1]} is not a readable JPEG"):
        load_packed(tmp_path / "faces.npz")


@pytest.mark.slow
def test_full_photo_sets_fit_one_carry(shared_data, tmp_path):
    total = 0
    for relative in ("faces68/keypoints.csv", "w300/faces/keypoints.csv"):
        samples, scheme = read_landmark_csv(shared_data / relative)
        crops, skipped = aligned_crops(samples, scheme)
        assert not skipped
        save_packed(crops, tmp_path / "set.npz")
        total += (tmp_path / "set.npz").stat().st_size
    assert total < CARRY_LIMIT
