"""The README's light install, made for real: `pip install .` into a fresh environment, without
OpenCV, PyAV or matplotlib, finds keypoints, puts filters on photos, evaluates and writes a Kaggle
submission, in at most 250 MB."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LIMIT_MB = 250


def site_packages_mb(environment: Path) -> float:
    """Disk use of the environment's packages, as `du -sm` counts it (MiB of allocated blocks)."""
    paths = environment.glob("lib/python*/site-packages/**/*")
    return sum(p.lstat().st_blocks * 512 for p in paths) / 2**20


@pytest.mark.slow
def test_the_base_install_detects_filters_evaluates_and_submits_in_at_most_250_mb(tmp_path, fkd_dir):
    environment = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(environment)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(environment / "bin" / "python"), "install", "-q",
                    "--no-cache-dir", str(REPO)], check=True, capture_output=True)
    size = site_packages_mb(environment)
    assert size <= LIMIT_MB, f"{size:.0f} MB"
    bin_dir, env = environment / "bin", {**os.environ, "COLUMNS": "200"}
    python = str(bin_dir / "python")
    for module in ("cv2", "av", "matplotlib", "torch"):
        proc = subprocess.run([python, "-c", f"import {module}"], capture_output=True, text=True)
        assert proc.returncode == 1, f"{module} is installed"
    proc = subprocess.run([str(bin_dir / "facepoints"), "detect", "--example", "--json", str(tmp_path / "faces.json")],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    face = json.loads((tmp_path / "faces.json").read_text())["images"][0]["faces"][0]
    assert len(face["keypoints"]) == 68 and set(face["pose"]) == {"yaw", "pitch", "roll"}
    example = subprocess.run([python, "-c", "from facepoints.commands.detect import example_photo; print(example_photo())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    proc = subprocess.run([str(bin_dir / "facepoints"), "filter", "sunglasses", example, "--out", str(tmp_path / "cool.png")],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and (tmp_path / "cool.png").stat().st_size > 0, proc.stderr
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 64)
    proc = subprocess.run([str(bin_dir / "facepoints"), "filter", "sunglasses", str(tmp_path / "clip.mp4"), "--out",
                           str(tmp_path / "out.mp4")], capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and proc.stderr.strip() == "error: av is not installed; install facepoints[video] for this command"
    proc = subprocess.run([str(bin_dir / "facepoints"), "evaluate", "fkd15", "--data", str(fkd_dir / "training.zip"),
                           "--val-groups", str(fkd_dir / "training_identities.csv"), "--split", "val"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and "on568faces" in "".join(proc.stdout.split()), proc.stderr
    proc = subprocess.run([str(bin_dir / "facepoints"), "submit", "--test", str(fkd_dir / "test.zip"), "--lookup",
                           str(fkd_dir / "IdLookupTable.csv"), "--out", str(tmp_path / "submission.csv")],
                          capture_output=True, text=True, env=env)
    lookup_rows = len((fkd_dir / "IdLookupTable.csv").read_text().splitlines())
    assert proc.returncode == 0 and len((tmp_path / "submission.csv").read_text().splitlines()) == lookup_rows, proc.stderr
