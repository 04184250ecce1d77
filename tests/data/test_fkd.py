"""The FKD readers on the real files, and every malformed-input message on small files."""

from __future__ import annotations

import time
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from facepoints.data.fkd import (
    KEYPOINT_COLUMNS,
    read_fkd_test,
    read_fkd_training,
    read_groups,
    read_id_lookup,
)
from facepoints.errors import DataError
from facepoints.schemes import FKD15

HEADER = list(KEYPOINT_COLUMNS) + ["Image"]


@pytest.fixture(scope="module")
def training(fkd_dir):
    return read_fkd_training(fkd_dir / "training.zip")


@pytest.fixture(scope="module")
def test_images(fkd_dir):
    return read_fkd_test(fkd_dir / "test.zip")


# ---- the real files ----------------------------------------------------------------------------


def test_training_shapes_and_types(training):
    assert len(training) == 2811
    assert training.images.shape == (2811, 96, 96) and training.images.dtype == np.uint8
    assert training.points.shape == (2811, 15, 2) and training.points.dtype == np.float32
    assert training.mask.shape == (2811, 15) and training.mask.dtype == bool
    assert training.scheme is FKD15
    np.testing.assert_array_equal(training.rows, np.arange(2811))


def test_training_missing_pattern_matches_kaggle(training):
    labelled = training.mask.sum(axis=1)
    core_only = (labelled == 4) & training.mask[:, list(FKD15.core)].all(axis=1)
    assert core_only.sum() == 1880  # about two thirds
    assert (labelled == 15).sum() == 828  # about 30%
    assert training.mask[:, list(FKD15.core)].all(axis=1).sum() == 2772
    assert abs(core_only.mean() - 2 / 3) < 0.01


def test_training_first_row_equals_file_text(fkd_dir, training):
    with zipfile.ZipFile(fkd_dir / "training.zip") as archive:
        header, first = archive.read("training.csv").decode().split("\n")[:2]
    fields = dict(zip(header.split(","), first.split(",")))
    for k, name in enumerate(FKD15.names):
        x, y = fields[f"{name}_x"], fields[f"{name}_y"]
        assert training.mask[0, k] == bool(x and y)
        if x and y:
            assert training.points[0, k, 0] == np.float32(float(x))
            assert training.points[0, k, 1] == np.float32(float(y))
    assert float(fields["left_eye_center_x"]) == pytest.approx(66.9188)
    pixels = [int(v) for v in fields["Image"].split()]
    np.testing.assert_array_equal(training.images[0].ravel(), pixels)


def test_training_points_lie_in_the_image(training):
    labelled = training.points[training.mask]
    assert labelled.min() >= 0.0 and labelled.max() <= 96.0
    assert (training.points[~training.mask] == 0).all()


def test_training_zip_reads_fast(fkd_dir):
    start = time.perf_counter()
    read_fkd_training(fkd_dir / "training.zip")
    assert time.perf_counter() - start < 5.0


def test_test_zip(test_images):
    image_ids, images = test_images
    np.testing.assert_array_equal(image_ids, np.arange(1, 627))
    assert images.shape == (626, 96, 96) and images.dtype == np.uint8
    assert 60 < images.mean() < 200  # real faces, not zeros


def test_lookup_covers_test_images(fkd_dir, test_images):
    image_ids, _ = test_images
    lookup = read_id_lookup(fkd_dir / "IdLookupTable.csv", known_image_ids=image_ids)
    assert len(lookup) == 9452
    np.testing.assert_array_equal(lookup.row_ids, np.arange(1, 9453))
    assert set(lookup.image_ids) == set(image_ids)
    requests = Counter(lookup.image_ids.tolist())
    assert Counter(requests.values()) == {8: 424, 30: 202}
    first_short = next(i for i, n in requests.items() if n == 8)
    asked = lookup.keypoints[lookup.image_ids == first_short]
    assert sorted(set(asked)) == sorted(FKD15.core)
    assert (FKD15.names[lookup.keypoints[0]], lookup.axes[0]) == ("left_eye_center", 0)
    assert lookup.axes[1] == 1


def test_groups(fkd_dir, training):
    groups = read_groups(fkd_dir / "training_identities.csv", len(training))
    assert groups.shape == (2811,) and groups.dtype.kind == "U"
    assert groups[0] == "Valerie_Harper" and groups[1] == "Albert_Brooks"
    assert len(set(groups)) == 282


# ---- small files -------------------------------------------------------------------------------


def _pixels(count: int = 9216, value: str = "7") -> str:
    return " ".join([value] * count)


def _training_row(**overrides: str) -> dict[str, str]:
    row = {name: "" for name in HEADER}
    row.update(left_eye_center_x="60.5", left_eye_center_y="38.25", Image=_pixels())
    row.update(overrides)
    return row


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    lines = [",".join(header)] + [",".join(row.get(name, "") for name in header) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _training_csv(tmp_path: Path, *rows: dict[str, str], header=HEADER) -> Path:
    return _write_csv(tmp_path / "training.csv", list(header), list(rows) or [_training_row()])


def _data_error(read, *args) -> str:
    with pytest.raises(DataError) as caught:
        read(*args)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_plain_csv_and_any_column_order(tmp_path):
    path = _training_csv(tmp_path, _training_row(), _training_row(nose_tip_x="40", nose_tip_y="50"),
                         header=HEADER[::-1])
    ks = read_fkd_training(path)
    assert len(ks) == 2
    assert ks.points[0, 0].tolist() == [60.5, 38.25]
    assert ks.mask[0].tolist() == [True] + [False] * 14
    assert ks.points[1, 10].tolist() == [40.0, 50.0] and ks.mask[1, 10]
    assert (ks.images == 7).all()


def test_x_without_y_is_unlabelled(tmp_path):
    ks = read_fkd_training(_training_csv(tmp_path, _training_row(nose_tip_x="40")))
    assert not ks.mask[0, 10] and ks.points[0, 10].tolist() == [0.0, 0.0]


def test_missing_file(tmp_path):
    message = _data_error(read_fkd_training, tmp_path / "nowhere.zip")
    assert "nowhere.zip" in message and "file not found" in message


def test_not_a_zip(tmp_path):
    path = tmp_path / "training.zip"
    path.write_text("left_eye_center_x\n")
    message = _data_error(read_fkd_training, path)
    assert "training.zip" in message and "not a zip file" in message


def test_zip_without_the_csv(tmp_path):
    path = tmp_path / "training.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    message = _data_error(read_fkd_training, path)
    assert "training.zip" in message and "no training.csv" in message and "readme.txt" in message


def test_zip_with_the_csv(tmp_path):
    path = tmp_path / "training.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(_training_csv(tmp_path), "training.csv")
    assert read_fkd_training(path).points[0, 0].tolist() == [60.5, 38.25]


def test_missing_column_is_named(tmp_path):
    header = [name for name in HEADER if name != "nose_tip_y"]
    message = _data_error(read_fkd_training, _training_csv(tmp_path, header=header))
    assert "training.csv" in message and "missing columns: nose_tip_y" in message


def test_unknown_column_is_named(tmp_path):
    message = _data_error(read_fkd_training, _training_csv(tmp_path, header=HEADER + ["Extra"]))
    assert "unknown columns: Extra" in message


def test_short_row(tmp_path):
    path = _training_csv(tmp_path)
    path.write_text(path.read_text() + "1,2\n")
    message = _data_error(read_fkd_training, path)
    assert "line 3: 2 fields where the header has 31" in message


def test_pixel_count_is_reported(tmp_path):
    path = _training_csv(tmp_path, _training_row(), _training_row(Image=_pixels(9215)))
    message = _data_error(read_fkd_training, path)
    assert "training.csv: line 3: Image has 9215 pixel values, expected 9216" in message


def test_non_numeric_keypoint_names_the_column(tmp_path):
    path = _training_csv(tmp_path, _training_row(nose_tip_x="abc", nose_tip_y="50"))
    message = _data_error(read_fkd_training, path)
    assert "line 2: nose_tip_x is not a number: 'abc'" in message


@pytest.mark.parametrize(
    "image, problem",
    [
        (_pixels(9215) + " x", "Image has a non-numeric value 'x' at pixel 9216"),
        ("nan " + _pixels(9215), "line 2: Image has a NaN value at pixel 1"),
        (_pixels(9215) + " 300", "pixel value 300, outside 0-255"),
    ],
)
def test_bad_pixel_is_named(tmp_path, image, problem):
    path = _training_csv(tmp_path, _training_row(Image=image))
    assert problem in _data_error(read_fkd_training, path)


def test_whole_float_pixels_are_accepted(tmp_path):
    ks = read_fkd_training(_training_csv(tmp_path, _training_row(Image=_pixels(value="7.0"))))
    assert (ks.images == 7).all()


@pytest.mark.parametrize("value", ["-1.5", "97.5", "150"])
def test_keypoint_outside_image(tmp_path, value):
    path = _training_csv(tmp_path, _training_row(nose_tip_x=value, nose_tip_y="50"))
    message = _data_error(read_fkd_training, path)
    assert f"line 2: nose_tip_x = {value} lies outside the 96x96 image" in message


@pytest.mark.parametrize("value", ["-0.5", "0", "96", "96.9"])
def test_keypoint_within_tolerance(tmp_path, value):
    path = _training_csv(tmp_path, _training_row(nose_tip_x="40", nose_tip_y=value))
    assert read_fkd_training(path).points[0, 10, 1] == pytest.approx(float(value))


def test_test_csv_errors(tmp_path):
    path = _write_csv(tmp_path / "test.csv", ["ImageId", "Image"],
                      [{"ImageId": "1", "Image": _pixels()}, {"ImageId": "1", "Image": _pixels()}])
    assert "line 3: ImageId 1 repeats the one on line 2" in _data_error(read_fkd_test, path)
    path.write_text("ImageId,Image\nfirst," + _pixels() + "\n")
    assert "line 2: ImageId is not an integer: 'first'" in _data_error(read_fkd_test, path)


def test_test_csv_reads(tmp_path):
    path = _write_csv(tmp_path / "test.csv", ["Image", "ImageId"],
                      [{"ImageId": "5", "Image": _pixels()}, {"ImageId": "9", "Image": _pixels()}])
    image_ids, images = read_fkd_test(path)
    assert image_ids.tolist() == [5, 9] and images.shape == (2, 96, 96)


LOOKUP_HEADER = "RowId,ImageId,FeatureName,Location\n"


def test_lookup_unknown_feature(tmp_path):
    path = tmp_path / "IdLookupTable.csv"
    path.write_text(LOOKUP_HEADER + "1,1,nose_tip_x,\n2,1,nose_tip_z,\n")
    message = _data_error(read_id_lookup, path)
    assert "IdLookupTable.csv: line 3: unknown FeatureName 'nose_tip_z'" in message


def test_lookup_unknown_image_id(tmp_path):
    path = tmp_path / "IdLookupTable.csv"
    path.write_text(LOOKUP_HEADER + "1,1,nose_tip_x,\n2,7,nose_tip_y,\n")
    message = _data_error(read_id_lookup, path, np.array([1, 2, 3]))
    assert "line 3: ImageId 7 is not among the test images" in message
    assert read_id_lookup(path).image_ids.tolist() == [1, 7]


def test_lookup_repeated_row_id(tmp_path):
    path = tmp_path / "IdLookupTable.csv"
    path.write_text(LOOKUP_HEADER + "1,1,nose_tip_x,\n1,1,nose_tip_y,\n")
    assert "line 3: RowId 1 repeats the one on line 2" in _data_error(read_id_lookup, path)


@pytest.mark.parametrize(
    "body, problem",
    [
        ("0,a\n1,b\n", "1 training rows have no identity: 2"),
        ("0,a\n1,b\n1,c\n", "line 4: row 1 repeats the one on line 3"),
        ("0,a\n1,b\n3,c\n", "line 4: row 3 is outside the 3 training rows"),
        ("0,a\n1,b\nx,c\n", "line 4: row is not an integer: 'x'"),
        ("0,a\n1,\n2,c\n", "line 3: empty identity"),
    ],
)
def test_groups_errors(tmp_path, body, problem):
    path = tmp_path / "training_identities.csv"
    path.write_text("row,identity\n" + body)
    message = _data_error(read_groups, path, 3)
    assert "training_identities.csv" in message and problem in message
