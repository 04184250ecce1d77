"""The audit on a 68-point photo set (faces68 layout): rows are image names, copies are found."""

import csv
import shutil
import subprocess
import sys


def test_audit_of_a_68_point_csv_finds_a_copied_frame(tmp_path, shared_data):
    source = shared_data / "faces68"
    rows = list(csv.reader(open(source / "keypoints.csv")))
    header, faces = rows[0], rows[1:151]
    (tmp_path / "images").mkdir()
    for face in faces:
        shutil.copy(source / "images" / face[1], tmp_path / "images" / face[1])
    copy = list(faces[0])
    copy[1] = "copy_of_" + faces[0][1]
    shutil.copy(source / "images" / faces[0][1], tmp_path / "images" / copy[1])
    with open(tmp_path / "keypoints.csv", "w", newline="") as f:
        csv.writer(f).writerows([header, *faces, copy])

    out = tmp_path / "suspects.csv"
    proc = subprocess.run([sys.executable, "-m", "facepoints.cli", "audit", str(tmp_path / "keypoints.csv"),
                           "--out", str(out), "--no-progress"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    suspects = list(csv.DictReader(open(out)))
    names = {face[1] for face in faces} | {copy[1]}
    assert suspects and all(s["row"] in names for s in suspects)
    duplicates = {s["row"]: s for s in suspects if s["kind"] == "duplicate"}
    assert {faces[0][1], copy[1]} & set(duplicates), suspects[:5]
