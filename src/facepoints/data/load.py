"""Pick the reader for a training-data path by its layout."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from facepoints.crop import PHOTO_FRAMING, Framing
from facepoints.data.aligned import aligned_crops
from facepoints.data.fkd import read_fkd_training, read_groups
from facepoints.data.keypoint_set import KeypointSet, concatenate
from facepoints.data.landmarks import LandmarkSample, read_landmark_csv, read_pts_folder
from facepoints.data.mixed import stack_sets
from facepoints.data.packed import load_packed
from facepoints.data.textfile import header_fields
from facepoints.errors import DataError, FacepointsError
from facepoints.schemes import Scheme, register_scheme

LAYOUTS = "a Kaggle training.csv/.zip, a landmark .csv (image, x0, y0, ...), a folder of .pts files or a packed .npz"


def load_dataset(path: str | Path, scheme: Scheme | None = None, framing: Framing = PHOTO_FRAMING,
                 progress: bool = False, check_scheme: Callable[[str], None] | None = None) -> KeypointSet:
    """A KeypointSet from any training-data layout; landmark photos come back as crops aligned
    with ``framing``. Faces whose photo cannot be read are left out with a warning. ``scheme``
    (a user's) names the points of a landmark CSV. ``check_scheme(name)`` may refuse the data's
    keypoint scheme: for landmark photos before any is cropped."""
    path = Path(path)
    check_scheme = check_scheme or (lambda scheme: None)
    if not path.exists():
        raise DataError(path, "not found")
    suffix = path.suffix.lower()
    header = header_fields(path) if suffix == ".csv" and not path.is_dir() else []
    if path.is_dir():
        samples, scheme_name = read_pts_folder(path)
    elif suffix == ".npz" or suffix == ".zip" or (suffix == ".csv" and "left_eye_center_x" in header):
        ks = load_packed(path) if suffix == ".npz" else read_fkd_training(path)
        check_scheme(ks.scheme.name)
        return ks
    elif scheme is not None:
        if suffix != ".csv":
            raise DataError(path, f"--scheme {scheme.name} applies to landmark CSVs only")
        if not scheme.reference:
            raise DataError(path, f"scheme {scheme.name} states no 'reference' points (eyes, nose, mouth "
                                  "corners) to frame its photos by")
        samples, scheme_name = read_landmark_csv(path, scheme=register_scheme(scheme))
    elif suffix == ".csv" and "x0" in header:
        samples, scheme_name = read_landmark_csv(path)
    else:
        raise DataError(path, f"unknown data layout: expected {LAYOUTS}")
    check_scheme(scheme_name)
    return _aligned(path, samples, scheme_name, framing, progress)


def _aligned(path: Path, samples: list[LandmarkSample], scheme: str, framing: Framing, progress: bool) -> KeypointSet:
    crops, skipped = aligned_crops(samples, scheme, framing, progress=progress, source=str(path))
    if skipped and not len(crops):
        raise DataError(path, f"no face could be cropped; first: {skipped[0][0]}: {skipped[0][1]}")
    if skipped:
        warnings.warn(f"{path}: left out {len(skipped)} of {len(samples)} faces; first: {skipped[0][0]}: {skipped[0][1]}")
    return crops


def load_training_set(data: list[Path], groups: Path | None = None, **reading) -> KeypointSet:
    """Read one or more data sets (``reading``: load_dataset's options) and combine them, keeping
    their groups apart. Sets of different schemes keep their own labels (data/mixed.py); the first
    set's scheme is the model's. A set with no face, or no keypoint labelled on any, is refused:
    there is nothing to train on or score."""
    sets = [load_dataset(path, **reading) for path in data]
    for path, dataset in zip(data, sets):
        if not len(dataset):
            raise DataError(path, "holds no faces")
        if not dataset.mask.any():
            raise DataError(path, "no keypoint is labelled on any of its faces")
    if groups is not None:
        if len(sets) > 1:
            raise FacepointsError("--val-groups applies to a single Kaggle-layout data file")
        sets[0].groups = read_groups(groups, len(sets[0]))
    try:
        combine = stack_sets if len({ks.scheme.name for ks in sets}) > 1 else concatenate
        return combine(sets, [Path(p).stem for p in data])
    except ValueError as e:
        raise FacepointsError(str(e)) from None


def without_rows(ks: KeypointSet, rows: set) -> KeypointSet:
    """``ks`` less the rows (row numbers or sample names) listed in ``rows``."""
    return ks.subset(~np.isin(ks.rows.astype(str), sorted(str(r) for r in rows)))
