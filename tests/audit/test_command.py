"""`facepoints audit` as a user meets it: files written, one-line errors, exit codes."""

import csv
import subprocess
import sys
import zipfile

import pytest

def run_audit(*args):
    return subprocess.run([sys.executable, "-m", "facepoints.cli", "audit", *map(str, args)],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def small_training_csv(fkd_dir, tmp_path_factory):
    """The first 300 rows of the real training.csv."""
    with zipfile.ZipFile(fkd_dir / "training.zip") as archive:
        lines = archive.read("training.csv").decode().splitlines()
    path = tmp_path_factory.mktemp("data") / "training.csv"
    path.write_text("\n".join(lines[:301]) + "\n")
    return path


def test_audit_writes_suspects_and_report(small_training_csv, tmp_path):
    out, report = tmp_path / "suspects.csv", tmp_path / "report.html"
    proc = run_audit(small_training_csv, "--out", out, "--report", report, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "300 faces audited" in proc.stdout
    with open(out, newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert rows and set(rows[0]) == {"row", "kind", "score", "reason", "group"}
    assert all(0 <= int(r["row"]) < 300 for r in rows)
    assert report.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("content, message", [
    (None, "missing.csv: not found"),
    ("left_eye_center_x,colour\n1,2\n", "training.csv: line 1: missing columns: left_eye_center_y"),
    ("a,b\n1,2\n", "training.csv: unknown data layout"),
    ("few", "faces are too few to audit (at least 20)"),
])
def test_bad_input_is_one_line_and_exit_1(tmp_path, small_training_csv, content, message):
    data = tmp_path / ("missing.csv" if content is None else "training.csv")
    if content == "few":
        data.write_text("\n".join(small_training_csv.read_text().splitlines()[:6]) + "\n")
    elif content is not None:
        data.write_text(content)
    proc = run_audit(data, "--out", tmp_path / "suspects.csv")
    assert proc.returncode == 1, proc.stderr
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "suspects.csv").exists()
