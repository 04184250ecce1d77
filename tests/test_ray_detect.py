"""`facepoints detect-ray` on a local Ray instance gives the rows `facepoints detect` gives."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

ray = pytest.importorskip("ray", reason="ray is not installed: pip install 'facepoints[ray]' to test detect-ray")

from typer.testing import CliRunner  # noqa: E402

from facepoints.cli import app  # noqa: E402
from facepoints.ray_detect import keypoint_dataset, write_rows  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def photo_folder(shared_data, tmp_path_factory):
    """8 faces68 frames of different people, one of them EXIF-turned in a subfolder, a broken JPEG and a text file."""
    frames = sorted((shared_data / "faces68" / "images").glob("*.jpg"))[::430][:8]
    folder = tmp_path_factory.mktemp("photos")
    for frame in frames[1:]:
        shutil.copy(frame, folder / frame.name)
    turned = Image.open(frames[0])
    exif = turned.getexif()
    exif[0x0112] = 6  # Orientation: shown turned 90 degrees clockwise
    (folder / "nested").mkdir()
    turned.save(folder / "nested" / "turned.jpg", exif=exif)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.fixture(scope="module")
def detect_rows(photo_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("detect") / "faces.json"
    proc = subprocess.run([sys.executable, "-m", "facepoints.cli", "detect", str(photo_folder), "--json", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "broken.jpg" in proc.stderr, proc.stderr  # the broken file is reported
    return {entry["path"]: entry for entry in json.loads(out.read_text())["images"]}


def assert_same_rows(ray_rows: list[dict], detect_rows: dict[str, dict]):
    assert sorted(row["path"] for row in ray_rows) == sorted(detect_rows)
    for row in ray_rows:
        expected = detect_rows[row["path"]]
        if "error" in expected:
            assert row["error"] == expected["error"] and row["faces"] == [] and row["width"] is None
            continue
        assert row["error"] is None
        assert (row["width"], row["height"]) == (expected["width"], expected["height"])
        assert len(row["faces"]) == len(expected["faces"]), row["path"]
        for face, want in zip(row["faces"], expected["faces"]):
            assert (face["scheme"], face["names"]) == (want["scheme"], want["names"])
            assert abs(face["score"] - want["score"]) < 1e-6
            np.testing.assert_allclose(face["box"], want["box"], atol=1e-3)
            np.testing.assert_allclose(face["keypoints"], want["keypoints"], atol=1e-3)


def test_cli_writes_detect_rows_as_parquet(local_ray, photo_folder, detect_rows, tmp_path):
    import pyarrow.parquet as pq

    assert len(detect_rows) == 9 and sum(len(e["faces"]) for e in detect_rows.values()) >= 8
    turned = detect_rows[str(photo_folder / "nested" / "turned.jpg")]
    assert turned["height"] > turned["width"]  # the EXIF turn applied (faces68 frames are wider)
    out = tmp_path / "rows"
    result = CliRunner().invoke(app, ["detect-ray", str(photo_folder), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "9 image(s) written" in result.output and "1 failed" in result.output
    assert_same_rows(pq.read_table(out).to_pylist(), detect_rows)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left

    again = CliRunner().invoke(app, ["detect-ray", str(photo_folder), "--out", str(out)])
    assert again.exit_code == 1 and "already exists and is not an empty folder" in again.output
    missing = CliRunner().invoke(app, ["detect-ray", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    assert missing.exit_code == 1 and "nowhere: not found" in missing.output


def test_json_lines_and_other_scheme(local_ray, photo_folder, detect_rows, tmp_path):
    dataset = keypoint_dataset([str(photo_folder)], scheme="celeba5")
    assert write_rows(dataset, str(tmp_path / "rows"), "json") == (9, 1)
    rows = [json.loads(line) for f in sorted((tmp_path / "rows").iterdir()) for line in f.read_text().splitlines()]
    faces = [face for row in rows for face in row["faces"]]
    assert len(rows) == 9 and faces and all(len(f["keypoints"]) == 5 and f["scheme"] == "celeba5" for f in faces)
    # celeba5 from the same 68 points: eye centres are the means of detect's six eye points
    row = next(r for r in rows if r["faces"] and len(r["faces"]) == len(detect_rows[r["path"]]["faces"]))
    eye = np.mean(np.array(detect_rows[row["path"]]["faces"][0]["keypoints"])[36:42], axis=0)
    np.testing.assert_allclose(row["faces"][0]["keypoints"][0], eye, atol=0.02)


def test_an_address_where_nothing_listens_fails_fast():
    import socket

    from facepoints.errors import FacepointsError
    from facepoints.ray_detect import _reachable

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(FacepointsError, match="nothing answers there"):
            _reachable(f"127.0.0.1:{port}")


def test_a_successful_run_prints_one_line_and_no_ray_logs(shared_data, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for frame in sorted((shared_data / "faces68" / "images").glob("*.jpg"))[:2]:
        shutil.copy(frame, photos / frame.name)
    proc = subprocess.run([sys.executable, "-m", "facepoints.cli", "detect-ray", str(photos), "--out", str(tmp_path / "rows")],
                          capture_output=True, text=True,
                          env={**{k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}, "COLUMNS": "300"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [f"2 image(s) written to {tmp_path / 'rows'}"] and proc.stdout == ""
