"""Readers for the Kaggle "Facial Keypoints Detection" files (training, test, lookup, identities).

Every problem in a file raises DataError with one line that names the file, the line and what is
wrong. Line numbers are the file's own 1-based text lines (the header is line 1, so data row r,
0-based, is on line r + 2); for a zip they count lines of the csv inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facepoints.data.keypoint_set import KeypointSet
from facepoints.data.textfile import Record, header_fields, parse_number, read_csv
from facepoints.errors import DataError
from facepoints.schemes import FKD15

IMAGE_SIDE = 96
PIXELS_PER_IMAGE = IMAGE_SIDE * IMAGE_SIDE

# Points may lie up to 1 px outside [0, 96]. The real training.zip spans x in [0.0, 95.999] and
# y in [5.5, 95.999] (points beyond the crop were clipped to its edge), so all 2,811 rows pass even
# with no margin; the 1 px admits files that use another pixel convention (pixel centres from
# -0.5, MATLAB-style 1-based) and still catches real faults: a sign slip or another image size.
OUTSIDE_TOLERANCE_PX = 1.0

KEYPOINT_COLUMNS = tuple(f"{name}_{axis}" for name in FKD15.names for axis in ("x", "y"))


@dataclass(frozen=True)
class IdLookup:
    """Which coordinates a Kaggle submission must give, one entry per RowId, in file order.

    keypoints index FKD15.names; axes are 0 for x, 1 for y. source names the file for messages.
    """

    row_ids: np.ndarray
    image_ids: np.ndarray
    keypoints: np.ndarray
    axes: np.ndarray
    source: str = ""

    def __len__(self) -> int:
        return len(self.row_ids)


def read_fkd_training(path: str | Path) -> KeypointSet:
    """training.csv (or a zip holding it) as FKD15 points in the file's pixel coordinates."""
    columns = _column_positions(path, header_fields(path, "training.csv"), KEYPOINT_COLUMNS + ("Image",))
    _, records = read_csv(path, "training.csv")
    coordinates = _parse_coordinates(path, records, columns)
    mask = ~np.isnan(coordinates).any(axis=2)
    _check_inside_image(path, records, coordinates, mask)
    images = _parse_images(path, records, columns["Image"])
    return KeypointSet(
        images=images,
        points=np.nan_to_num(coordinates).astype(np.float32),
        mask=mask,
        scheme=FKD15,
        rows=np.arange(len(records)),
        source=str(path),
    )


def read_fkd_test(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """test.csv (or a zip holding it) as (image_ids, images (N, 96, 96) uint8)."""
    columns = _column_positions(path, header_fields(path, "test.csv"), ("ImageId", "Image"))
    _, records = read_csv(path, "test.csv")
    image_ids = _parse_integers(path, records, columns["ImageId"], "ImageId")
    _check_unique(path, records, image_ids, "ImageId")
    return image_ids, _parse_images(path, records, columns["Image"])


def read_id_lookup(path: str | Path, known_image_ids: np.ndarray | None = None) -> IdLookup:
    """IdLookupTable.csv; with known_image_ids, every ImageId it asks for must be one of them."""
    header, records = read_csv(path, "IdLookupTable.csv")
    columns = _column_positions(path, header, ("RowId", "ImageId", "FeatureName", "Location"))
    row_ids = _parse_integers(path, records, columns["RowId"], "RowId")
    _check_unique(path, records, row_ids, "RowId")
    image_ids = _parse_integers(path, records, columns["ImageId"], "ImageId")
    if known_image_ids is not None:
        _check_known_image_ids(path, records, image_ids, known_image_ids)
    keypoints, axes = _parse_feature_names(path, records, columns["FeatureName"])
    return IdLookup(row_ids, image_ids, keypoints, axes, source=str(path))


def read_groups(path: str | Path, num_rows: int) -> np.ndarray:
    """training_identities.csv as one identity (str) per training row, for identity-disjoint splits."""
    header, records = read_csv(path, "training_identities.csv")
    columns = _column_positions(path, header, ("row", "identity"))
    rows = _parse_integers(path, records, columns["row"], "row")
    _check_unique(path, records, rows, "row")
    for (line, _), row in zip(records, rows):
        if not 0 <= row < num_rows:
            raise DataError(path, f"line {line}: row {row} is outside the {num_rows} training rows")
    if len(rows) < num_rows:
        absent = np.setdiff1d(np.arange(num_rows), rows)
        shown = ", ".join(str(r) for r in absent[:5]) + (", ..." if len(absent) > 5 else "")
        raise DataError(path, f"{len(absent)} training rows have no identity: {shown}")
    identities = np.empty(num_rows, dtype=object)
    for (line, fields), row in zip(records, rows):
        identity = fields[columns["identity"]].strip()
        if not identity:
            raise DataError(path, f"line {line}: empty identity")
        identities[row] = identity
    return identities.astype(str)


def _column_positions(
    path: str | Path, header: list[str], expected: tuple[str, ...]
) -> dict[str, int]:
    """Index of each expected column; any order, but none missing, repeated or unknown."""
    repeated = sorted({name for name in header if header.count(name) > 1})
    missing = [name for name in expected if name not in header]
    unknown = [name for name in header if name not in expected]
    problems = []
    if missing:
        problems.append("missing columns: " + ", ".join(missing))
    if unknown:
        problems.append("unknown columns: " + ", ".join(unknown))
    if repeated:
        problems.append("repeated columns: " + ", ".join(repeated))
    if problems:
        raise DataError(path, "line 1: " + "; ".join(problems))
    return {name: header.index(name) for name in expected}


def _parse_coordinates(
    path: str | Path, records: list[Record], columns: dict[str, int]
) -> np.ndarray:
    """(N, 15, 2) float64 keypoints with NaN where the file leaves a coordinate empty."""
    positions = [columns[name] for name in KEYPOINT_COLUMNS]
    values = np.full((len(records), len(positions)), np.nan)
    for index, (line, fields) in enumerate(records):
        for column, position in enumerate(positions):
            text = fields[position].strip()
            if text:
                values[index, column] = parse_number(path, line, KEYPOINT_COLUMNS[column], text)
    return values.reshape(len(records), FKD15.num_keypoints, 2)


def _check_inside_image(
    path: str | Path, records: list[Record], coordinates: np.ndarray, mask: np.ndarray
) -> None:
    low, high = -OUTSIDE_TOLERANCE_PX, IMAGE_SIDE + OUTSIDE_TOLERANCE_PX
    outside = mask[..., None] & ((coordinates < low) | (coordinates > high))
    if outside.any():
        row, keypoint, axis = np.argwhere(outside)[0]
        column = f"{FKD15.names[keypoint]}_{'xy'[axis]}"
        value = coordinates[row, keypoint, axis]
        raise DataError(
            path,
            f"line {records[row][0]}: {column} = {value:g} lies outside the "
            f"{IMAGE_SIDE}x{IMAGE_SIDE} image (allowed {low:g} to {high:g})",
        )


def _parse_images(path: str | Path, records: list[Record], position: int) -> np.ndarray:
    images = np.empty((len(records), IMAGE_SIDE, IMAGE_SIDE), dtype=np.uint8)
    for index, (line, fields) in enumerate(records):
        images[index] = _parse_pixels(path, line, fields[position]).reshape(IMAGE_SIDE, IMAGE_SIDE)
    return images


def _parse_pixels(path: str | Path, line: int, text: str) -> np.ndarray:
    """9216 whole grey values 0-255, parsed as integers (much faster than as floats); 64-bit, so
    that a value past 32 bits is refused, not wrapped into range (numpy saturates past 64)."""
    try:
        pixels = np.fromstring(text, dtype=np.int64, sep=" ")
    except ValueError:
        pixels = _parse_non_integer_pixels(path, line, text)
    if len(pixels) != PIXELS_PER_IMAGE:
        raise DataError(
            path,
            f"line {line}: Image has {len(pixels)} pixel values, "
            f"expected {PIXELS_PER_IMAGE} ({IMAGE_SIDE}x{IMAGE_SIDE})",
        )
    if pixels.min() < 0 or pixels.max() > 255:
        bad = pixels[(pixels < 0) | (pixels > 255)][0]
        raise DataError(path, f"line {line}: Image has pixel value {bad}, outside 0-255")
    return pixels


def _parse_non_integer_pixels(path: str | Path, line: int, text: str) -> np.ndarray:
    """Slow path for a row the integer parser refused: accept whole floats, name anything else."""
    tokens = text.split()
    for position, token in enumerate(tokens, 1):
        try:
            value = float(token)
        except ValueError:
            raise DataError(
                path, f"line {line}: Image has a non-numeric value {token[:20]!r} at pixel {position}"
            ) from None
        if np.isnan(value):
            raise DataError(path, f"line {line}: Image has a NaN value at pixel {position}")
        if not value.is_integer():
            raise DataError(
                path, f"line {line}: Image has a non-whole value {token[:20]!r} at pixel {position}"
            )
        if not 0 <= value <= 255:
            raise DataError(path, f"line {line}: Image has pixel value {token[:20]} at pixel {position}, outside 0-255")
    return np.array([float(token) for token in tokens]).astype(np.int64)


def _parse_integers(
    path: str | Path, records: list[Record], position: int, column: str
) -> np.ndarray:
    values = np.empty(len(records), dtype=np.int64)
    for index, (line, fields) in enumerate(records):
        text = fields[position].strip()
        try:
            values[index] = int(text)
        except ValueError:
            raise DataError(path, f"line {line}: {column} is not an integer: {text[:20]!r}") from None
    return values


def _check_unique(path: str | Path, records: list[Record], values: np.ndarray, column: str) -> None:
    _, first_index, counts = np.unique(values, return_index=True, return_counts=True)
    if (counts > 1).any():
        value = values[first_index[counts > 1][0]]
        lines = [line for (line, _), v in zip(records, values) if v == value]
        raise DataError(
            path, f"line {lines[1]}: {column} {value} repeats the one on line {lines[0]}"
        )


def _check_known_image_ids(
    path: str | Path, records: list[Record], image_ids: np.ndarray, known: np.ndarray
) -> None:
    unknown = ~np.isin(image_ids, known)
    if unknown.any():
        index = int(np.argmax(unknown))
        raise DataError(
            path, f"line {records[index][0]}: ImageId {image_ids[index]} is not among the test images"
        )


def _parse_feature_names(
    path: str | Path, records: list[Record], position: int
) -> tuple[np.ndarray, np.ndarray]:
    """FeatureName "<keypoint>_x" / "_y" as (keypoint index into FKD15, axis 0/1)."""
    column_of = {name: index for index, name in enumerate(KEYPOINT_COLUMNS)}
    columns = np.empty(len(records), dtype=np.int64)
    for index, (line, fields) in enumerate(records):
        name = fields[position].strip()
        if name not in column_of:
            raise DataError(path, f"line {line}: unknown FeatureName {name[:40]!r}")
        columns[index] = column_of[name]
    return columns // 2, columns % 2
