"""Landmark readers on the real sets, their coordinate origins, malformed files, and aligned crops."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from facepoints.crop import PHOTO_FRAMING, Framing, reference_points
from facepoints.data.aligned import aligned_crops
from facepoints.data.landmarks import (
    LandmarkSample,
    read_celeba_landmarks,
    read_landmark_csv,
    read_mtfl_csv,
    read_pts_folder,
)
from facepoints.data.load import load_dataset
from facepoints.errors import DataError
from facepoints.imageio import read_image


@pytest.fixture(scope="module")
def faces68(shared_data):
    return read_landmark_csv(shared_data / "faces68" / "keypoints.csv")


@pytest.fixture(scope="module")
def w300_faces(shared_data):
    return read_landmark_csv(shared_data / "w300" / "faces" / "keypoints.csv")


def first_data_line(csv_path: Path) -> list[str]:
    return csv_path.read_text().splitlines()[1].split(",")


# ---- the real files ----------------------------------------------------------------------------


def test_faces68_counts(faces68):
    samples, scheme = faces68
    assert scheme == "ibug68" and len(samples) == 3437
    assert len({s.group for s in samples}) == 282
    assert len({s.name for s in samples}) == 3437
    assert all(s.points.shape == (68, 2) and s.points.dtype == np.float32 and s.mask.all() for s in samples)


def test_w300_counts(w300_faces, shared_data):
    samples, scheme = w300_faces
    assert scheme == "ibug68" and len(samples) == 2012
    photos, _ = read_landmark_csv(shared_data / "w300" / "photos" / "keypoints.csv")
    assert len(photos) == 337
    assert len({s.image for s in photos}) == len({s.group for s in photos}) == 185
    assert len({s.name for s in photos}) == 337  # faces of one photo get #0, #1, ...
    assert all(s.image.is_file() for s in photos)


def test_mtfl_counts(shared_data):
    samples, scheme = read_mtfl_csv(shared_data / "mtfl" / "keypoints.csv")
    assert scheme == "celeba5" and len(samples) == 10_000
    assert samples[0].image == shared_data / "mtfl" / "images" / "lfw_5590_Aaron_Eckhart_0001.jpg"
    np.testing.assert_allclose(samples[0].points[0], [34.32, 34.80], atol=1e-4)  # 0-based as given
    # In the image's terms: point 0 is the eye on the image's left.
    assert all(s.points[0, 0] < s.points[1, 0] for s in samples[:100])


def test_mtfl_reader_refuses_other_schemes(shared_data):
    with pytest.raises(DataError, match="not the 5 points"):
        read_mtfl_csv(shared_data / "faces68" / "keypoints.csv")


# ---- coordinate origins ------------------------------------------------------------------------


def test_faces68_is_read_as_1_based(faces68, shared_data):
    samples, _ = faces68
    fields = first_data_line(shared_data / "faces68" / "keypoints.csv")
    assert samples[0].group == fields[0] and samples[0].name == fields[1]
    file_points = np.array(fields[2:], dtype=float).reshape(68, 2)
    np.testing.assert_array_equal(samples[0].points, file_points - 1)
    raw, _ = read_landmark_csv(shared_data / "faces68" / "keypoints.csv", origin=0)
    np.testing.assert_array_equal(raw[0].points, file_points)


def test_w300_is_read_as_0_based(w300_faces, shared_data):
    samples, _ = w300_faces
    fields = first_data_line(shared_data / "w300" / "faces" / "keypoints.csv")
    assert samples[0].group == fields[1] and samples[0].name == fields[2]
    np.testing.assert_allclose(samples[0].points, np.array(fields[3:], dtype=float).reshape(68, 2), atol=1e-4)


def mirror_axis_offset(sample: LandmarkSample) -> float | None:
    """Label axis minus the image's mirror axis (x, px) for a near-frontal face, else None.

    The label axis is the mean of left/right pair midpoints and centre-line points; the image
    axis is where the high-passed face best matches its own mirror image. Both are in the
    image's pixel coordinates, so a labelling convention off by one shows as +-1."""
    p = sample.points
    left, right = p[36:42].mean(0), p[42:48].mean(0)
    eyes = np.linalg.norm(right - left)
    roll = np.degrees(np.arctan2(right[1] - left[1], right[0] - left[0]))
    if abs(roll) > 4 or abs(p[30, 0] - (left[0] + right[0]) / 2) > 0.15 * eyes or eyes < 20:
        return None
    pairs = [(17 + i, 26 - i) for i in range(5)] + [(31, 35), (32, 34), (36, 45), (37, 44), (38, 43),
             (39, 42), (40, 47), (41, 46), (48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64), (61, 63), (65, 67)]
    label_axis = np.mean([(p[i, 0] + p[j, 0]) / 2 for i, j in pairs] + [p[c, 0] for c in (27, 28, 29, 30, 33, 51, 57, 62, 66)])
    grey = cv2.GaussianBlur(read_image(sample.image).astype(np.float32).mean(2), (0, 0), 1.0)
    grey -= cv2.GaussianBlur(grey, (0, 0), 0.15 * eyes)
    x0, x1 = int(p[36, 0] - 0.3 * eyes), int(p[45, 0] + 0.3 * eyes) + 1
    y0, y1 = int(min(p[17:27, 1].min(), p[36:48, 1].min() - 0.3 * eyes)), int(p[57, 1]) + 1
    if x0 < 0 or y0 < 0 or x1 > grey.shape[1] or y1 > grey.shape[0]:
        return None
    xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))

    def mismatch(axis: float) -> float:
        mirrored = cv2.remap(grey, (2 * axis - xs).astype(np.float32), ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return float(((grey[y0:y1, x0:x1] - mirrored) ** 2).mean())

    axes = label_axis + np.arange(-4, 4.01, 0.25)
    costs = [mismatch(a) for a in axes]
    k = int(np.argmin(costs))
    if k in (0, len(axes) - 1):
        return None
    before, best, after = costs[k - 1: k + 2]
    return label_axis - (axes[k] + 0.125 * (before - after) / (before - 2 * best + after))


def test_faces68_labels_sit_on_the_mirror_axis_once_made_0_based(faces68):
    """The check behind origin=1: read as 0-based, faces68's labels sit about +1 px right of
    the faces' mirror axes (full set: +0.94 mean, +1.16 median over 722 frontal faces); the
    1-based reading centres them."""
    samples, _ = faces68
    offsets = [o for o in map(mirror_axis_offset, samples[::6]) if o is not None]
    assert len(offsets) > 80
    assert abs(np.median(offsets)) < 0.4, np.median(offsets)


# ---- .pts folders and CelebA files -------------------------------------------------------------


def write_pts(path: Path, points_1_based: np.ndarray) -> None:
    lines = ["version: 1", f"n_points:  {len(points_1_based)}", "{"]
    lines += [f"{x:.3f} {y:.3f}" for x, y in points_1_based] + ["}"]
    path.write_text("\n".join(lines) + "\n")


def test_pts_round_trip(w300_faces, tmp_path):
    samples, _ = w300_faces
    chosen = samples[:3]
    for index, sample in enumerate(chosen):
        suffix = ".png" if index == 2 else ".jpg"
        image = tmp_path / f"face{index}{suffix}"
        if suffix == ".png":
            Image.open(sample.image).save(image)
        else:
            shutil.copy(sample.image, image)
        write_pts(tmp_path / f"face{index}.pts", sample.points + 1)  # .pts is 1-based
    read, scheme = read_pts_folder(tmp_path)
    assert scheme == "ibug68" and [s.name for s in read] == ["face0", "face1", "face2"]
    assert [s.group for s in read] == ["face0", "face1", "face2"]
    assert read[2].image == tmp_path / "face2.png"
    for original, back in zip(chosen, read):
        np.testing.assert_allclose(back.points, original.points, atol=1e-3)
        assert back.mask.all()


def test_pts_without_its_image_is_reported_when_loaded(w300_faces, tmp_path):
    samples, _ = w300_faces
    shutil.copy(samples[0].image, tmp_path / "a.jpg")
    write_pts(tmp_path / "a.pts", samples[0].points + 1)
    write_pts(tmp_path / "b.pts", samples[1].points + 1)
    read, scheme = read_pts_folder(tmp_path)
    crops, skipped = aligned_crops(read, scheme)
    assert list(crops.rows) == ["a"]
    assert skipped == [("b", f"{tmp_path / 'b.jpg'}: file not found")]


@pytest.mark.parametrize(
    "text, problem",
    [
        ("version: 1\nn_points: 2\n{\n1 2\n3 4\n}\n", "fit no keypoint scheme"),
        ("version: 1\nn_points: 68\n{\n1 2\n}\n", "n_points says 68 but 1 point lines"),
        ("version: 1\nn_points: 1\n{\n1 two\n}\n", "line 4: y is not a number"),
        ("version: 1\nn_points: 1\n1 2\n}\n", "line 3: expected '{'"),
        ("1 2\n3 4\n", "not a .pts file"),
    ],
)
def test_malformed_pts(tmp_path, text, problem):
    (tmp_path / "face.pts").write_text(text)
    with pytest.raises(DataError, match=problem) as caught:
        read_pts_folder(tmp_path)
    assert str(caught.value).startswith(str(tmp_path / "face.pts"))


def test_pts_folder_problems(tmp_path):
    with pytest.raises(DataError, match="holds no .pts files"):
        read_pts_folder(tmp_path)
    with pytest.raises(DataError, match="folder not found"):
        read_pts_folder(tmp_path / "nowhere")


CELEBA_HEADER = "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y"


def test_celeba_landmarks(tmp_path):
    (tmp_path / "list_landmarks_align_celeba.txt").write_text(
        f"2\n{CELEBA_HEADER}\n"
        "000001.jpg 69  109  106  113   77  142   73  152  108  154\n"
        "000002.jpg 69  110  107  112   81  135   70  151  108  153\n"
    )
    samples, scheme = read_celeba_landmarks(tmp_path / "list_landmarks_align_celeba.txt", tmp_path / "img")
    assert scheme == "celeba5" and [s.name for s in samples] == ["000001.jpg", "000002.jpg"]
    assert samples[1].image == tmp_path / "img" / "000002.jpg" and samples[1].group == "000002"
    np.testing.assert_array_equal(samples[0].points, [[69, 109], [106, 113], [77, 142], [73, 152], [108, 154]])


@pytest.mark.parametrize(
    "text, problem",
    [
        (f"3\n{CELEBA_HEADER}\n1.jpg 1 2 3 4 5 6 7 8 9 10\n", "line 1 announces 3 images but 1 follow"),
        (f"1\n{CELEBA_HEADER}\n1.jpg 1 2 3 4 5 6 7 8 9\n", "line 3: 10 fields"),
        (f"1\n{CELEBA_HEADER}\n1.jpg 1 2 3 4 5 x 7 8 9 10\n", "line 3: nose_y is not a number"),
        ("1\nx y\n1.jpg 1 2\n", "line 2: expected the header"),
        ("one\n", "too short"),
    ],
)
def test_malformed_celeba(tmp_path, text, problem):
    (tmp_path / "marks.txt").write_text(text)
    with pytest.raises(DataError, match=problem):
        read_celeba_landmarks(tmp_path / "marks.txt", tmp_path)


# ---- malformed landmark CSVs -------------------------------------------------------------------


def small_csv(tmp_path: Path, rows: list[str], header: str = "source,group,image,x0,y0,x1,y1,x2,y2,x3,y3,x4,y4") -> Path:
    (tmp_path / "images").mkdir(exist_ok=True)
    (tmp_path / "marks.csv").write_text("\n".join([header] + rows) + "\n")
    return tmp_path / "marks.csv"


@pytest.mark.parametrize(
    "rows, header, problem",
    [
        (["s,g,a.jpg,1,2,3,4,5,6,7,8,9"], None, "line 2: 12 fields where the header has 13"),
        (["s,g,a.jpg,1,2,3,4,5,six,7,8,9,10"], None, "line 2: y2 is not a number: 'six'"),
        (["s,g,a.jpg,1,2,3,4,5,6,7,8,9,10", "s,g,b.jpg,1,,3,4,5,6,7,8,9,10"], None, "line 3: only one of x0 and y0"),
        (["s,g,a.jpg,1,2,3,4,5,inf,7,8,9,10"], None, "line 2: y2 is 'inf'"),
        (["s,g,,1,2,3,4,5,6,7,8,9,10"], None, "line 2: empty image name"),
        (["s,a.jpg,1,2,3,4,5,6,7,8,9,10"], "s,image,x0,y0,x1,y1,x2,y2,x3,y3,x4,y4", "line 1: unexpected columns: s"),
        (["g,1,2,3,4,5,6,7,8,9,10"], "group,x0,y0,x1,y1,x2,y2,x3,y3,x4,y4", "line 1: no image column"),
        (["a.jpg,1,2,3,4,5,6"], "image,x0,y0,x1,y1,x2,y2", "3 points per face fit no keypoint scheme"),
        ([], None, "holds no faces"),
    ],
)
def test_malformed_landmark_csv(tmp_path, rows, header, problem):
    path = small_csv(tmp_path, rows, **({"header": header} if header else {}))
    with pytest.raises(DataError, match=problem) as caught:
        read_landmark_csv(path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_empty_fields_mark_points_unlabelled(tmp_path):
    path = small_csv(tmp_path, ["s,g,a.jpg,1,2,,,5,6,nan,nan,9,10"])
    [sample], scheme = read_landmark_csv(path)
    assert scheme == "celeba5"
    np.testing.assert_array_equal(sample.mask, [True, False, True, False, True])
    np.testing.assert_array_equal(sample.points[1], [0, 0])


def test_missing_images_folder(tmp_path):
    path = small_csv(tmp_path, ["s,g,a.jpg,1,2,3,4,5,6,7,8,9,10"])
    with pytest.raises(DataError, match="images folder of marks.csv not found"):
        read_landmark_csv(path, images_dir=tmp_path / "elsewhere")


def test_faces_that_cannot_be_cropped_are_left_out(faces68, tmp_path):
    samples, scheme = faces68
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    broken = LandmarkSample(tmp_path / "broken.jpg", samples[1].points, samples[1].mask, "x", "broken")
    missing = LandmarkSample(tmp_path / "missing.jpg", samples[2].points, samples[2].mask, "x", "missing")
    collapsed = LandmarkSample(samples[3].image, np.ones((68, 2), np.float32), samples[3].mask, "x", "collapsed")
    unlabelled_eye = LandmarkSample(samples[4].image, samples[4].points, np.arange(68) != 40, "x", "unlabelled eye")
    crops, skipped = aligned_crops([samples[0], broken, missing, collapsed, unlabelled_eye], scheme)
    assert list(crops.rows) == [samples[0].name] and len(crops.images) == 1
    assert [name for name, _ in skipped] == ["broken", "missing", "collapsed", "unlabelled eye"]
    assert "not a readable image" in skipped[0][1] and "file not found" in skipped[1][1]
    assert "coincide" in skipped[2][1] and "not all labelled" in skipped[3][1]


# ---- aligned crops -----------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["faces68", "w300_faces"])
def test_crops_put_the_eyes_on_the_template(data, request):
    samples, scheme = request.getfixturevalue(data)
    crops, skipped = aligned_crops(samples[::50], scheme)
    assert not skipped and crops.images.shape == (len(samples[::50]), 128, 128, 3)
    assert crops.framing == PHOTO_FRAMING and crops.scheme.name == "ibug68"
    assert list(crops.rows) == [s.name for s in samples[::50]]
    assert list(crops.groups) == [s.group for s in samples[::50]]
    eyes, _ = reference_points(crops.points, crops.mask, scheme, PHOTO_FRAMING)
    distance = np.linalg.norm(eyes[:, :2] - np.array(PHOTO_FRAMING.template[:2]), axis=-1)
    assert np.median(distance) < 2.0  # five-point fit: the eyes share the error with nose and mouth
    # An eyes-only framing is solved exactly.
    eyes_only = Framing(96, ((30.3, 37.8), (66.3, 37.8)))
    crops, _ = aligned_crops(samples[::200], scheme, eyes_only)
    eyes, _ = reference_points(crops.points, crops.mask, scheme, eyes_only)
    np.testing.assert_allclose(eyes, np.broadcast_to(eyes_only.template, eyes.shape), atol=1e-3)


def test_points_follow_the_pixels(faces68, tmp_path):
    """Dark dots drawn at the keypoints of a real face land at the moved keypoints in the crop."""
    samples, scheme = faces68
    sample = samples[0]
    image = read_image(sample.image).copy()
    spots = [30, 36, 45, 48, 54]
    for x, y in sample.points[spots]:  # one-pixel dots at integer pixel centres
        image[int(round(y)), int(round(x))] = 0
    Image.fromarray(image).save(tmp_path / "dots.png")
    dotted = LandmarkSample(tmp_path / "dots.png", np.round(sample.points), sample.mask, "g", "dots")
    plain = LandmarkSample(sample.image, np.round(sample.points), sample.mask, "g", "plain")
    crops, _ = aligned_crops([dotted, plain], scheme)
    darker = np.clip(crops.images[1].astype(float) - crops.images[0], 0, None).sum(axis=2)
    for x, y in crops.points[0, spots]:
        window = darker[int(y) - 3: int(y) + 5, int(x) - 3: int(x) + 5]
        ys, xs = np.mgrid[int(y) - 3: int(y) + 5, int(x) - 3: int(x) + 5]
        centre = np.array([(xs * window).sum(), (ys * window).sum()]) / window.sum()
        np.testing.assert_allclose(centre, [x, y], atol=0.15)


# ---- load_dataset ------------------------------------------------------------------------------


def test_load_dataset_crops_landmark_photos(shared_data):
    crops = load_dataset(shared_data / "w300" / "photos" / "keypoints.csv")
    assert len(crops) == 337 and crops.images.shape[1:] == (128, 128, 3)
    assert crops.source == str(shared_data / "w300" / "photos" / "keypoints.csv")


def test_load_dataset_reads_pts_folders_and_warns_of_missing_photos(w300_faces, tmp_path):
    samples, _ = w300_faces
    shutil.copy(samples[0].image, tmp_path / "a.jpg")
    write_pts(tmp_path / "a.pts", samples[0].points + 1)
    write_pts(tmp_path / "b.pts", samples[1].points + 1)
    with pytest.warns(UserWarning, match="left out 1 of 2 faces; first: b: "):
        crops = load_dataset(tmp_path)
    assert list(crops.rows) == ["a"] and crops.scheme.name == "ibug68"
    (tmp_path / "a.jpg").unlink()
    with pytest.raises(DataError, match="no face could be cropped"):
        load_dataset(tmp_path)


def test_load_dataset_keeps_the_fkd_branch(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_dataset(shared_data / "fkd" / "training.zip").scheme.name == "fkd15"


@pytest.mark.parametrize("name, text", [("notes.txt", "hello"), ("table.csv", "a,b\n1,2\n")])
def test_load_dataset_refuses_unknown_layouts(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    with pytest.raises(DataError, match="unknown data layout"):
        load_dataset(tmp_path / name)
    with pytest.raises(DataError, match="not found"):
        load_dataset(tmp_path / "nothing.csv")
