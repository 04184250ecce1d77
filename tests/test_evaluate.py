"""`facepoints evaluate` of the bundled models on real labelled faces of other layouts."""

import os
import subprocess
import sys

import pytest


def evaluate(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "facepoints.cli", "evaluate", *map(str, args)],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})


def first_faces(csv, tmp_path, count: int):
    """The first ``count`` faces of a landmark CSV, beside a link to its images."""
    lines = csv.read_text().splitlines()[: count + 1]
    (tmp_path / "keypoints.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "images").symlink_to(csv.parent / "images")
    return tmp_path / "keypoints.csv"


def metric(output: str, name: str) -> float:
    """The model's value of ``name`` in the table (the column before the mean benchmark's)."""
    return float(next(line.split()[3] for line in output.splitlines() if line.split()[1:2] == [name]))


def test_a_68_point_model_scores_5_point_photos_through_the_scheme_mapping(tmp_path, shared_data):
    data = first_faces(shared_data / "mtfl/keypoints.csv", tmp_path, 40)
    proc = evaluate("ibug68", "--data", data)
    assert proc.returncode == 0, proc.stderr
    title = "".join(proc.stdout.split())  # the table's title, wrapped to its width
    assert f"on40facesof{data}" in title and "PosixPath" not in title
    assert "rmse lefteye" in proc.stdout and metric(proc.stdout, "nme") < 0.1


def test_a_model_whose_points_cannot_make_the_datas_is_refused_in_one_line(tmp_path, shared_data):
    data = first_faces(shared_data / "w300/faces/keypoints.csv", tmp_path, 40)
    proc = evaluate("fkd15", "--data", data)
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("error: fkd15 gives fkd15 keypoints, which cannot be mapped to the data's ibug68; "
                                   "evaluate it on data of its own points or of fewer")


@pytest.mark.parametrize("model", ["ibug68", "ibug68-tiny"])
def test_each_model_gets_crops_of_its_own_input_size(tmp_path, shared_data, model):
    data = first_faces(shared_data / "w300/faces/keypoints.csv", tmp_path, 40)
    proc = evaluate(model, "--data", data)
    assert proc.returncode == 0, proc.stderr
    assert metric(proc.stdout, "nme") < 0.06


def test_a_bundled_model_scores_the_rows_train_would_hold_out(fkd_dir):
    proc = evaluate("fkd15", "--data", fkd_dir / "training.zip", "--val-groups", fkd_dir / "training_identities.csv",
                    "--split", "val")
    assert proc.returncode == 0, proc.stderr
    title = "".join(proc.stdout.split())  # the table's title, wrapped to its width
    assert "on568faces" in title  # train's held-out rows (tests/training: the run's val_rows)
