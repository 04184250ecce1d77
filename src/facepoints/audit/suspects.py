"""suspects.csv: one row per suspicious face, most suspicious first; and reading it back.

Columns: row (the training file's 0-based row, or the image name of a photo set), kind (label,
duplicate or image: the strongest finding), score (robust standard deviations from a typical
face on that check), reason (every finding, strongest first, separated by "; ") and group (the
first row of the face's duplicate group; empty when it has none).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facepoints.audit.findings import Finding
from facepoints.data.textfile import read_text
from facepoints.errors import DataError
from facepoints.fileio import write_text_atomic

COLUMNS = ("row", "kind", "score", "reason", "group")


@dataclass(frozen=True)
class Suspect:
    index: int  # position in the audited KeypointSet
    row: str
    kind: str
    score: float
    reason: str
    group: str


def rank_suspects(findings: list[Finding], rows: np.ndarray, group: np.ndarray) -> list[Suspect]:
    """Merge the findings of each face into one suspect; most suspicious first, then file order."""
    by_face: dict[int, list[Finding]] = {}
    for finding in findings:
        by_face.setdefault(finding.index, []).append(finding)
    suspects = []
    for index, found in by_face.items():
        found.sort(key=lambda f: -f.score)
        in_group = (group == group[index]).sum() > 1
        suspects.append(Suspect(index, str(rows[index]), found[0].kind, found[0].score,
                                "; ".join(f.reason for f in found),
                                str(rows[group[index]]) if in_group else ""))
    return sorted(suspects, key=lambda s: (-s.score, s.index))


def write_suspects(path: str | Path, suspects: list[Suspect]) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for s in suspects:
        writer.writerow((s.row, s.kind, f"{s.score:.2f}", s.reason, s.group))
    write_text_atomic(path, text.getvalue())


def read_exclusions(spec: str) -> set[int | str]:
    """Rows of the top N suspects from "suspects.csv:N" (every suspect without ":N").

    Row numbers come back as int, image names of photo sets as str."""
    path, count = _parse_spec(spec)
    if not path.is_file():
        raise DataError(path, "suspects file not found")
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    if not reader.fieldnames or "row" not in [name.strip() for name in reader.fieldnames]:
        raise DataError(path, "line 1: no 'row' column; expected a suspects.csv written by `facepoints audit`")
    rows: list[int | str] = []
    for record in reader:
        if count is not None and len(rows) >= count:
            break
        value = (record.get("row") or "").strip()
        if not value:
            raise DataError(path, f"line {reader.line_num}: empty row")
        rows.append(int(value) if value.isdigit() else value)
    return set(rows)


def _parse_spec(spec: str) -> tuple[Path, int | None]:
    head, colon, tail = spec.rpartition(":")
    if colon and tail.isdigit():
        return Path(head), int(tail)
    if colon and not Path(spec).exists() and "/" not in tail and "\\" not in tail:
        raise DataError(head, f"top count {tail!r} after ':' is not a whole number")
    return Path(spec), None
