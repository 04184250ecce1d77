"""Readers for photo sets with landmarks: one function per file layout, each returning
``(samples, scheme name)`` with points as 0-based pixel centres (the top-left pixel's centre is
(0, 0)), whatever the file's own convention.

Images are not opened here: a missing or broken image is reported when it is loaded (see
``data/aligned.py``), so one bad photo does not stop a set of thousands. Problems in the landmark
files themselves raise DataError naming the file and its 1-based text line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facepoints.data.textfile import numbered_lines, parse_number, read_csv, read_text
from facepoints.errors import DataError
from facepoints.imageio import IMAGE_SUFFIXES
from facepoints.scheme_file import METADATA_COLUMNS
from facepoints.schemes import SCHEMES, Scheme

CELEBA_COLUMNS = tuple(
    f"{point}_{axis}" for point in ("lefteye", "righteye", "nose", "leftmouth", "rightmouth") for axis in "xy"
)


@dataclass(frozen=True)
class LandmarkSample:
    """One annotated face: its photo, (K, 2) float32 0-based points, (K,) bool labelled mask,
    the group it must be split with (identity or photo), and a name unique within its set."""

    image: Path
    points: np.ndarray
    mask: np.ndarray
    group: str
    name: str


def read_landmark_csv(
    csv_path: str | Path, images_dir: str | Path | None = None, origin: float | None = None,
    scheme: Scheme | None = None,
) -> tuple[list[LandmarkSample], str]:
    """A CSV of ``[identity|source,group,]image,x0,y0,...`` rows, one face per row.

    Images are in ``images_dir``, by default the ``images/`` folder beside the CSV. Empty (or
    NaN) coordinates mark a point unlabelled. The scheme follows from the number of points.

    origin is the coordinate the file gives the top-left pixel's centre; it is subtracted. None
    decides by layout: 1 for the Udacity / YouTube Faces layout (header starting
    ``identity,image``), whose integer labels are MATLAB-style 1-based (checked on the data: its
    point pairs sit about 1 px right of the faces' mirror axes), and 0 for every other layout, e.g. the
    300-W and MTFL CSVs, which are 0-based already.
    """
    csv_path = Path(csv_path)
    images_dir = csv_path.parent / "images" if images_dir is None else Path(images_dir)
    header, records = read_csv(csv_path)
    if not records:
        raise DataError(csv_path, "holds no faces, only a header")
    if origin is None:
        origin = 1.0 if header[:2] == ["identity", "image"] else 0.0
    if scheme is None:
        coordinates = _numbered_columns(header)
        scheme_name = _scheme_with(csv_path, _check_header(csv_path, header, coordinates))
    else:
        named = [f"{point}_{axis}" for point in scheme.names for axis in "xy"]
        coordinates = named if named[0] in header else _numbered_columns(header, scheme.num_keypoints)
        _check_header(csv_path, header, coordinates)
        scheme_name = scheme.name
    if not images_dir.is_dir():
        raise DataError(images_dir, f"images folder of {csv_path.name} not found")
    image_column = header.index("image")
    group_column = next((header.index(c) for c in ("identity", "group") if c in header), None)
    coordinate_columns = [header.index(c) for c in coordinates]
    images = [fields[image_column].strip() for _, fields in records]
    names = _unique_names(images)
    samples = []
    for (line, fields), image, name in zip(records, images, names):
        if not image:
            raise DataError(csv_path, f"line {line}: empty image name")
        points, mask = _parse_points(csv_path, line, header, fields, coordinate_columns)
        points = np.where(mask[:, None], points - np.float32(origin), np.float32(0))
        group = fields[group_column].strip() if group_column is not None else Path(image).stem
        if not group:
            raise DataError(csv_path, f"line {line}: empty {header[group_column]}")
        samples.append(LandmarkSample(images_dir / image, points, mask, group, name))
    return samples, scheme_name


def read_mtfl_csv(csv_path: str | Path) -> tuple[list[LandmarkSample], str]:
    """The MTFL ``source,image,x0,y0,...,x4,y4`` CSV (0-based) as celeba5 samples.

    The file has no identity column and its LFW faces are one per person, so each image is its
    own group."""
    samples, scheme = read_landmark_csv(csv_path)
    if scheme != "celeba5":
        raise DataError(csv_path, f"holds {scheme} points, not the 5 points of an MTFL file")
    return samples, scheme


def read_pts_folder(folder: str | Path) -> tuple[list[LandmarkSample], str]:
    """300-W style ``.pts`` files, each beside its image of the same stem (.jpg, .png, ...).

    .pts coordinates are 1-based (the top-left pixel's centre is (1, 1)); 1 is subtracted.
    Group = image stem. A .pts without an image is reported when the images are loaded."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(folder, "folder not found")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".pts")
    if not files:
        raise DataError(folder, "holds no .pts files")
    parsed = [(path, _parse_pts(path)) for path in files]
    num_points = len(parsed[0][1])
    for path, points in parsed:
        if len(points) != num_points:
            raise DataError(path, f"{len(points)} points where {files[0].name} has {num_points}")
    scheme = _scheme_with(files[0], num_points)
    images = _images_by_stem(folder)
    labelled = np.ones(num_points, dtype=bool)
    samples = [
        LandmarkSample(images.get(path.stem, path.with_suffix(".jpg")), points - np.float32(1), labelled, path.stem, path.stem)
        for path, points in parsed
    ]
    return samples, scheme


def read_celeba_landmarks(path: str | Path, images_dir: str | Path) -> tuple[list[LandmarkSample], str]:
    """CelebA's ``list_landmarks_align_celeba.txt`` (or the unaligned list): a count, a header
    of the 10 coordinate names, then ``000001.jpg 69 109 ...`` lines; 0-based as given.

    CelebA's identities live in another file, so each image is its own group."""
    path, images_dir = Path(path), Path(images_dir)
    lines = [(n, line.split()) for n, line in numbered_lines(read_text(path))]
    if len(lines) < 2:
        raise DataError(path, "too short: expected a count line and a header line")
    (_, count_fields), (header_line, header) = lines[0], lines[1]
    if len(count_fields) != 1 or not count_fields[0].isdigit():
        raise DataError(path, f"line 1: expected the number of images, found {' '.join(count_fields)[:40]!r}")
    if tuple(header) != CELEBA_COLUMNS:
        raise DataError(path, f"line {header_line}: expected the header {' '.join(CELEBA_COLUMNS)}")
    records = lines[2:]
    if int(count_fields[0]) != len(records):
        raise DataError(path, f"line 1 announces {count_fields[0]} images but {len(records)} follow")
    samples = []
    for line, fields in records:
        if len(fields) != 1 + len(CELEBA_COLUMNS):
            raise DataError(path, f"line {line}: {len(fields)} fields where an image name and 10 numbers belong")
        values = [parse_number(path, line, column, text) for column, text in zip(CELEBA_COLUMNS, fields[1:])]
        points = np.array(values, dtype=np.float32).reshape(5, 2)
        samples.append(LandmarkSample(images_dir / fields[0], points, np.ones(5, bool), Path(fields[0]).stem, fields[0]))
    return samples, "celeba5"


def _numbered_columns(header: list[str], num_points: int | None = None) -> list[str]:
    """x0, y0, x1, ...: for as many points as the header numbers, or ``num_points``."""
    if num_points is None:
        num_points = len([c for c in header if re.fullmatch(r"[xy]\d+", c)]) // 2
    return [f"{axis}{k}" for k in range(num_points) for axis in "xy"]


def _check_header(path: Path, header: list[str], coordinates: list[str]) -> int:
    """The number of points; every column must be known and every coordinate column present."""
    num_points = len(coordinates) // 2
    expected = set(coordinates)
    problems = []
    if "image" not in header:
        problems.append("no image column")
    unknown = [c for c in header if c not in METADATA_COLUMNS and c not in expected]
    if unknown:
        problems.append("unexpected columns: " + ", ".join(unknown[:5]))
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        problems.append("repeated columns: " + ", ".join(repeated))
    if not num_points:
        problems.append("no x0, y0, ... coordinate columns")
    elif not expected <= set(header):
        problems.append("missing columns: " + ", ".join([c for c in coordinates if c not in header][:5]))
    if problems:
        raise DataError(path, "line 1: " + "; ".join(problems))
    return num_points


def _scheme_with(path: Path, num_points: int) -> str:
    for scheme in SCHEMES.values():
        if scheme.num_keypoints == num_points:
            return scheme.name
    counts = ", ".join(f"{s.name} {s.num_keypoints}" for s in SCHEMES.values())
    raise DataError(path, f"{num_points} points per face fit no keypoint scheme ({counts})")


def _unique_names(images: list[str]) -> list[str]:
    """The image name, or ``image#k`` (k = 0, 1, ...) for each face of an image listed more than once."""
    totals: dict[str, int] = {}
    for image in images:
        totals[image] = totals.get(image, 0) + 1
    seen: dict[str, int] = {}
    names = []
    for image in images:
        if totals[image] == 1:
            names.append(image)
        else:
            names.append(f"{image}#{seen.get(image, 0)}")
            seen[image] = seen.get(image, 0) + 1
    return names


def _parse_points(
    path: Path, line: int, header: list[str], fields: list[str], columns: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """(K, 2) float32 points (0 where unlabelled) and (K,) mask from one CSV row."""
    try:
        values = np.array([fields[column] for column in columns], dtype=np.float64)
    except ValueError:  # an empty or bad field: parse one by one to name it
        values = np.array([_coordinate(path, line, header[c], fields[c]) for c in columns])
    if np.isinf(values).any():
        column = columns[int(np.flatnonzero(np.isinf(values))[0])]
        raise DataError(path, f"line {line}: {header[column]} is {fields[column].strip()!r}, not a finite number")
    pairs = values.reshape(-1, 2)
    given = ~np.isnan(pairs)
    half = np.flatnonzero(given[:, 0] != given[:, 1])
    if len(half):
        k = half[0]
        raise DataError(path, f"line {line}: only one of x{k} and y{k} is given")
    mask = given.all(axis=1)
    return np.nan_to_num(pairs).astype(np.float32), mask


def _coordinate(path: Path, line: int, column: str, text: str) -> float:
    """A coordinate field; empty means unlabelled (NaN)."""
    return parse_number(path, line, column, text) if text.strip() else np.nan


def _images_by_stem(folder: Path) -> dict[str, Path]:
    images: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            known = images.get(path.stem)
            if known is None or IMAGE_SUFFIXES.index(path.suffix.lower()) < IMAGE_SUFFIXES.index(known.suffix.lower()):
                images[path.stem] = path
    return images


def _parse_pts(path: Path) -> np.ndarray:
    """(n, 2) float32 points of a ``version: 1 / n_points: n / { x y ... }`` file, as written."""
    lines = [(n, line.strip()) for n, line in numbered_lines(read_text(path))]
    if len(lines) < 4 or not lines[0][1].startswith("version:") or not lines[1][1].startswith("n_points:"):
        raise DataError(path, "not a .pts file: expected 'version:' and 'n_points:' lines, then { x y ... }")
    count_text = lines[1][1].split(":", 1)[1].strip()
    if not count_text.isdigit():
        raise DataError(path, f"line {lines[1][0]}: n_points is not a whole number: {count_text[:20]!r}")
    count = int(count_text)
    if lines[2][1] != "{":
        raise DataError(path, f"line {lines[2][0]}: expected '{{'")
    body = lines[3:]
    if len(body) != count + 1 or body[-1][1] != "}":
        found = sum(1 for _, text in body if text != "}")
        raise DataError(path, f"n_points says {count} but {found} point lines are between {{ and }}")
    points = np.empty((count, 2), dtype=np.float32)
    for index, (line, text) in enumerate(body[:-1]):
        fields = text.split()
        if len(fields) != 2:
            raise DataError(path, f"line {line}: expected 'x y', found {text[:40]!r}")
        points[index] = [parse_number(path, line, axis, value) for axis, value in zip("xy", fields)]
    return points
