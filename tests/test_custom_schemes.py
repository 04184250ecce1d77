"""A user's own keypoints: scheme files, train --init from the face model, detect --model with their names."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from facepoints.crop import PHOTO_FRAMING
from facepoints.errors import DataError
from facepoints.evaluation import mean_benchmark, percentage_error
from facepoints.imageio import read_image
from facepoints.inference import FaceKeypointer
from facepoints.model_record import ModelRecord
from facepoints.scheme_file import read_scheme_file
from facepoints.schemes import IBUG68, mapping_matrix, register_scheme, scheme_definition

# Six points of a lab's own, each the mean of some ibug68 points (the faces68 labels make them).
LAB_POINTS = {"right_eye": list(range(36, 42)), "left_eye": list(range(42, 48)), "nose_tip": [30],
              "mouth_right": [48], "mouth_left": [54], "chin": [8]}
LAB_SCHEME = {
    "name": "lab6", "points": list(LAB_POINTS),
    "flip_pairs": [["right_eye", "left_eye"], ["mouth_right", "mouth_left"]],
    "near": {name: [IBUG68.names[i] for i in group] for name, group in LAB_POINTS.items()},
    "reference": {"lefteye": ["right_eye"], "righteye": ["left_eye"], "nose": ["nose_tip"],
                  "leftmouth": ["mouth_right"], "rightmouth": ["mouth_left"]},
}


def write_json(path, data):
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("change, message", [
    ({"points": ["a", "b", "a"]}, "duplicate point names: a"),
    ({"flip_pairs": [["right_eye", "left_ear"]]}, "flip pair names unknown point 'left_ear'"),
    ({"flip_pairs": [["right_eye", "left_eye"], ["right_eye", "chin"]]}, "'right_eye' is in more than one flip pair"),
    ({"near": {"chin": ["jaw_99"]}}, "'near' of 'chin': 'jaw_99' is not one of its points"),
    ({"name": "ibug68"}, "'ibug68' is a built-in scheme"),
    ({"reference": {"lefteye": ["right_eye"]}}, "'reference' leaves out righteye"),
    ({"colour": "red"}, "unknown keys: colour"),
])
def test_scheme_file_errors_name_the_file_and_the_problem(tmp_path, change, message):
    path = write_json(tmp_path / "bad.json", {**LAB_SCHEME, **change})
    with pytest.raises(DataError) as error:
        read_scheme_file(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)
    assert "\n" not in str(error.value)


def test_scheme_file_round_trips_and_maps_from_ibug68(tmp_path):
    scheme = read_scheme_file(write_json(tmp_path / "lab6.json", LAB_SCHEME))
    assert scheme.names == tuple(LAB_POINTS) and scheme.flip_pairs == ((0, 1), (3, 4))
    assert read_scheme_file(write_json(tmp_path / "again.json", scheme_definition(scheme))) == scheme
    register_scheme(scheme)
    weights = mapping_matrix("ibug68", "lab6")
    assert weights.shape == (6, 68) and np.allclose(weights[0, 36:42], 1 / 6) and weights[5, 8] == 1


def test_csv_header_names_the_points_and_pairs_left_with_right(tmp_path):
    path = tmp_path / "ears.csv"
    path.write_text("image,left_ear_x,left_ear_y,right_ear_x,right_ear_y,chin_x,chin_y\n")
    scheme = read_scheme_file(path)
    assert scheme.names == ("left_ear", "right_ear", "chin") and scheme.flip_pairs == ((0, 1),)


def test_record_carries_a_users_whole_scheme(tmp_path):
    scheme = read_scheme_file(write_json(tmp_path / "lab6.json", LAB_SCHEME))
    record = ModelRecord.from_properties(ModelRecord(
        scheme="lab6", image_size=(128, 128), channels=3, framing=PHOTO_FRAMING,
        scheme_definition=scheme_definition(scheme)).properties())
    assert record.keypoint_scheme() == scheme


def test_percentage_error_and_mean_benchmark_follow_seed_003():
    target = np.array([[[10.0, 20.0]], [[30.0, 40.0]]], np.float32)
    mask = np.ones((2, 1), bool)
    benchmark = mean_benchmark(target, mask, 2)
    assert benchmark.tolist() == [[[20.0, 30.0]], [[20.0, 30.0]]]
    # x: RMSE 10 over mean 20 = 50 %; y: RMSE 10 over mean 30 = 33.3 %
    assert percentage_error(benchmark, target, mask) == pytest.approx((50 + 100 / 3) / 2)


def test_own_points_from_the_face_model_end_to_end(tmp_path, shared_data):
    """The README's walk: 40 labelled faces, train --init ibug68, detect --model --draw with the lab's names."""
    faces = shared_data / "faces68"
    with open(faces / "keypoints.csv") as stream:
        rows = list(csv.reader(stream))[1:41]
    labels = tmp_path / "lab.csv"
    with open(labels, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["identity", "image"] + [f"{p}_{a}" for p in LAB_POINTS for a in "xy"])
        for row in rows:
            points = np.array(row[2:], float).reshape(68, 2)
            writer.writerow(row[:2] + [f"{v:.2f}" for g in LAB_POINTS.values() for v in points[g].mean(0)])
    (tmp_path / "images").symlink_to(faces / "images")
    scheme = write_json(tmp_path / "lab6.json", LAB_SCHEME)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "facepoints.cli", *map(str, args)], capture_output=True, text=True)

    run = tmp_path / "run"
    trained = cli("train", "--data", labels, "--scheme", scheme, "--init", "ibug68", "--epochs", 2,
                  "--freeze-epochs", 1, "--out", run, "--no-progress")
    assert trained.returncode == 0, trained.stderr
    # The head started from the face model's rows for these points: close after two epochs.
    assert json.loads((run / "scores.json").read_text())["val"]["nme"] < 0.08
    config = json.loads((run / "config.json").read_text())
    assert (config["lr"], config["warmup"]) == (2e-4, 0.1)  # --init's default recipe: finetune
    evaluated = cli("evaluate", run, "--data", labels, "--split", "val")
    assert evaluated.returncode == 0 and "mean benchmark" in evaluated.stdout, evaluated.stderr
    photo_rgb = read_image(faces / "images" / rows[0][1])
    assert FaceKeypointer(run)(photo_rgb)[0].names == tuple(LAB_POINTS)
    again = cli("train", "--data", labels, "--scheme", scheme, "--init", run, "--epochs", 1, "--out", tmp_path / "again",
                "--no-progress")  # --init takes a run folder too
    assert again.returncode == 0 and json.loads((tmp_path / "again" / "scores.json").read_text())["val"]["nme"] < 0.08, again.stderr
    photo = faces / "images" / rows[0][1]
    detected = cli("detect", photo, "--model", run, "--json", tmp_path / "out.json", "--draw", tmp_path / "drawn")
    assert detected.returncode == 0, detected.stderr
    face = json.loads((tmp_path / "out.json").read_text())["images"][0]["faces"][0]
    assert face["names"] == list(LAB_POINTS) and len(face["keypoints"]) == 6
    assert list((tmp_path / "drawn").iterdir())
    by_name = cli("detect", photo, "--model", run, "--scheme", "lab6", "--json", tmp_path / "named.json")
    assert by_name.returncode == 0, by_name.stderr
    assert json.loads((tmp_path / "named.json").read_text())["images"][0]["faces"][0]["keypoints"] == face["keypoints"]
    unknown = cli("detect", photo, "--model", run, "--scheme", "lab7")
    assert unknown.returncode == 2 and unknown.stderr.strip().endswith("cannot make 'lab7'; it can give lab6, celeba5"), unknown.stderr
    wrong = cli("train", "--data", labels, "--scheme", write_json(tmp_path / "x.json", {**LAB_SCHEME, "points": []}),
                "--out", tmp_path / "r2")
    assert wrong.returncode == 1 and "x.json: 'points' must be a non-empty list" in wrong.stderr
