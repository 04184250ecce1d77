"""suspects.csv: merged and ranked findings, written atomically, read back for --exclude."""

import csv

import numpy as np
import pytest

from facepoints.audit.findings import Finding
from facepoints.audit.suspects import rank_suspects, read_exclusions, write_suspects
from facepoints.errors import DataError


def test_findings_of_one_face_merge_strongest_first():
    findings = [Finding(3, "duplicate", 7.0, "near duplicate of row 1 (correlation 0.990)"),
                Finding(3, "label", 9.5, "nose_tip 14 px from where the face puts it"),
                Finding(0, "image", 6.1, "blank picture (grey levels vary by 0.0)")]
    group = np.array([0, 1, 2, 1])
    suspects = rank_suspects(findings, np.array([10, 11, 12, 13]), group)
    assert [(s.row, s.kind, s.group) for s in suspects] == [("13", "label", "11"), ("10", "image", "")]
    assert suspects[0].reason == "nose_tip 14 px from where the face puts it; near duplicate of row 1 (correlation 0.990)"


def test_real_audit_csv_round_trip(tmp_path, fkd_audit):
    path = tmp_path / "suspects.csv"
    write_suspects(path, fkd_audit.suspects)
    with open(path, newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == ["row", "kind", "score", "reason", "group"]
    assert len(rows) == len(fkd_audit.suspects)
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert {r["kind"] for r in rows} == {"label", "duplicate", "image"}
    assert read_exclusions(f"{path}:5") == {int(r["row"]) for r in rows[:5]}
    assert read_exclusions(str(path)) == {int(r["row"]) for r in rows}
    assert read_exclusions(f"{path}:0") == set()
    assert [p.name for p in tmp_path.iterdir()] == ["suspects.csv"]  # no temporary file left


def test_photo_set_rows_are_names(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("row,kind,score,reason,group\nimg_7.jpg,label,9.0,x,\n12,image,7.0,y,\n")
    assert read_exclusions(str(path)) == {"img_7.jpg", 12}


@pytest.mark.parametrize("content, spec, message", [
    (None, "{dir}/absent.csv:3", "absent.csv: suspects file not found"),
    ("row,kind\n1,label\n", "{dir}/s.csv:x3", "s.csv: top count 'x3' after ':' is not a whole number"),
    ("index,kind\n1,label\n", "{dir}/s.csv", "s.csv: line 1: no 'row' column"),
    ("row,kind\n,label\n", "{dir}/s.csv", "s.csv: line 2: empty row"),
    (b"row\n\xff\n", "{dir}/s.csv", "s.csv: not UTF-8 text"),
])
def test_bad_exclusions_are_one_line_errors(tmp_path, content, spec, message):
    if content is not None:
        target = tmp_path / "s.csv"
        target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content)
    with pytest.raises(DataError) as error:
        read_exclusions(spec.format(dir=tmp_path))
    assert message in str(error.value) and "\n" not in str(error.value)
