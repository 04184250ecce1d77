"""Parsing one field of a data file, with errors that name the file, line and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facepoints.errors import DataError


def parse_number(path: str | Path, line: int, column: str, text: str) -> float:
    """A finite float, or a one-line DataError saying where the bad value is."""
    try:
        value = float(text)
    except ValueError:
        raise DataError(path, f"line {line}: {column} is not a number: {text.strip()[:20]!r}") from None
    if np.isinf(value):
        raise DataError(path, f"line {line}: {column} is {text.strip()[:20]!r}, not a finite number")
    return value
