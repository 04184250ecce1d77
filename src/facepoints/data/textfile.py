"""Reading text data files: the file's text, its numbered lines, CSV records and number fields.

Every problem raises DataError naming the file and, where there is one, its 1-based text line;
for a zip, lines count within the file read from it.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from pathlib import Path

import numpy as np

from facepoints.errors import DataError

Record = tuple[int, list[str]]  # (1-based line number, fields)

# A zip member is refused unread where it would inflate past either limit (a zip bomb): Kaggle's
# training.csv is 238 MB and packs about 4 to 1; a deflate stream can pack 1000 to 1.
MAX_ZIP_MEMBER_BYTES = 500_000_000
MAX_ZIP_RATIO = 100
MAX_HEADER_BYTES = 1_000_000  # a header line longer than this is no header

# Where splitting directly and the csv module may part: quotes, NUL (refused by the csv module
# before Python 3.11) and the line breaks of `str.splitlines` that the csv module keeps in a field.
_CSV_SLOW_PATH = '"\0\v\f\x1c\x1d\x1e\x85\u2028\u2029'


def read_text(path: str | Path, zip_member: str | None = None) -> str:
    """The UTF-8 text of ``path`` (a byte-order mark dropped); of ``zip_member`` inside it where
    ``path`` is a .zip and a member is named."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    if zip_member is not None and path.suffix.lower() == ".zip":
        data = _read_zip_member(path, zip_member)
    else:
        data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(path, f"not UTF-8 text (byte {error.start})") from None


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines as (1-based line number, line)."""
    return [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def read_csv(path: str | Path, zip_member: str | None = None) -> tuple[list[str], list[Record]]:
    """The header (names stripped) and the non-blank records of a CSV file, each record as long
    as the header; ``zip_member`` as in `read_text`."""
    records = csv_records(path, read_text(path, zip_member))
    if not records:
        raise DataError(path, "file is empty")
    (_, header), data = records[0], records[1:]
    for line, fields in data:
        if len(fields) != len(header):
            raise DataError(path, f"line {line}: {len(fields)} fields where the header has {len(header)}")
    return [name.strip() for name in header], data


def csv_records(path: str | Path, text: str) -> list[Record]:
    """Records with a non-blank field, as the csv module reads them from a file opened with
    ``newline=""`` (lines end at LF, CR LF or CR).

    Text free of quotes, NUL and the other characters `str.splitlines` breaks at, with no line
    past the csv module's field limit, is split on line breaks and commas directly: the same
    records, read much faster than the csv module reads a large file of pixels."""
    if not any(character in text for character in _CSV_SLOW_PATH):
        lines = text.splitlines()
        if max(map(len, lines), default=0) <= csv.field_size_limit():
            split = ((number, line.split(",")) for number, line in enumerate(lines, 1))
            return [(number, fields) for number, fields in split if any(f.strip() for f in fields)]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return [(reader.line_num, fields) for fields in reader if any(f.strip() for f in fields)]
    except csv.Error as error:
        raise DataError(path, f"line {reader.line_num}: not valid CSV ({error})") from None


def parse_number(path: str | Path, line: int, column: str, text: str) -> float:
    """A finite float, or a one-line DataError saying where the bad value is."""
    try:
        value = float(text)
    except ValueError:
        raise DataError(path, f"line {line}: {column} is not a number: {text.strip()[:20]!r}") from None
    if np.isinf(value):
        raise DataError(path, f"line {line}: {column} is {text.strip()[:20]!r}, not a finite number")
    return value


def header_fields(path: str | Path, zip_member: str | None = None) -> list[str]:
    """The first line's comma-separated names, read alone (at most ``MAX_HEADER_BYTES``): a file's
    columns are checked before the rest of it is read or inflated."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    if zip_member is not None and path.suffix.lower() == ".zip":
        line = _zip_member(path, zip_member, lambda stream: stream.readline(MAX_HEADER_BYTES))
    else:
        with open(path, "rb") as file:
            line = file.readline(MAX_HEADER_BYTES)
    text = line.decode("utf-8", errors="replace").lstrip("\ufeff")
    return [name.strip() for name in next(csv.reader([text]), [])]


def _read_zip_member(path: Path, name: str) -> bytes:
    """The member's bytes, its sizes checked before it is inflated and its reading capped."""

    def capped(stream) -> bytes:
        return stream.read(MAX_ZIP_MEMBER_BYTES)

    return _zip_member(path, name, capped, check_sizes=True)


def _zip_member(path: Path, name: str, read, check_sizes: bool = False) -> bytes:
    """``read(stream)`` of the member named ``name``, with one-line errors for what a zip can hide."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if Path(info.filename).name == name]
            if not members:
                held = ", ".join(archive.namelist()) or "nothing"
                raise DataError(path, f"zip holds no {name} (it holds: {held})")
            member = members[0]
            if member.flag_bits & 1:
                raise DataError(path, f"{member.filename} is encrypted; unpack it first")
            ratio = member.file_size / max(member.compress_size, 1)
            if check_sizes and (member.file_size > MAX_ZIP_MEMBER_BYTES or ratio > MAX_ZIP_RATIO):
                raise DataError(path, f"{member.filename} would inflate to {member.file_size:,} bytes ({ratio:.0f} times "
                                      f"its packed size); refused as a zip bomb (limits: {MAX_ZIP_MEMBER_BYTES:,} bytes, "
                                      f"{MAX_ZIP_RATIO} times)")
            with archive.open(member) as stream:
                return read(stream)
    except zipfile.BadZipFile as error:
        raise DataError(path, f"not a zip file, or a damaged one ({error})") from None
    except (zlib.error, EOFError, NotImplementedError) as error:
        raise DataError(path, f"{name} in it cannot be unpacked ({error})") from None
