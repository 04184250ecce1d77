"""The shared text and CSV reading: the direct split agrees with the csv module on any text."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facepoints.data.textfile import csv_records, numbered_lines, read_csv, read_text
from facepoints.errors import DataError


def csv_module_records(text: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    return [(reader.line_num, fields) for fields in reader if any(f.strip() for f in fields)]


@given(st.text(alphabet="ab ,\t\r\n"))
def test_direct_split_reads_what_the_csv_module_reads(text):
    assert csv_records("t.csv", text) == csv_module_records(text)


@given(st.text(alphabet='ab ,\r\n"\0\v\f\x1c\x85\u2028'))
def test_quotes_and_odd_line_breaks_read_as_the_csv_module_reads_them(text):
    try:
        expected = csv_module_records(text)
    except csv.Error:
        with pytest.raises(DataError, match="not valid CSV"):
            csv_records("t.csv", text)
    else:
        assert csv_records("t.csv", text) == expected


def test_a_line_past_the_field_limit_is_the_csv_module_s_error():
    text = "a,b\n" + "x" * (csv.field_size_limit() + 1) + ",1\n"
    with pytest.raises(DataError, match="t.csv: line 2: not valid CSV"):
        csv_records("t.csv", text)


def test_read_csv_numbers_lines_and_checks_field_counts(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeff a , b \r\n\r\n1,2\r\n ,\r\n3\r\n".encode())
    with pytest.raises(DataError, match=r"t.csv: line 5: 1 fields where the header has 2$"):
        read_csv(path)
    path.write_bytes(b"a,b\r1,2\r\r3,4")
    assert read_csv(path) == (["a", "b"], [(2, ["1", "2"]), (4, ["3", "4"])])


def test_read_text_errors(tmp_path):
    with pytest.raises(DataError, match="gone.csv: file not found"):
        read_text(tmp_path / "gone.csv")
    (tmp_path / "l.csv").write_bytes(b"ab\xff")
    with pytest.raises(DataError, match=r"l.csv: not UTF-8 text \(byte 2\)"):
        read_text(tmp_path / "l.csv")
    (tmp_path / "z.zip").write_bytes(b"abc")
    assert read_text(tmp_path / "z.zip") == "abc"  # a member is read only where one is named
    with pytest.raises(DataError, match="z.zip: not a zip file"):
        read_text(tmp_path / "z.zip", "t.csv")


def test_numbered_lines_skip_blank_lines():
    assert numbered_lines("a\n \n\r\nb c\rd") == [(1, "a"), (4, "b c"), (5, "d")]
