"""Pick the reader for a training-data path by its layout."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from facepoints.data.aligned import aligned_crops
from facepoints.data.fkd import read_fkd_training, read_groups
from facepoints.data.keypoint_set import KeypointSet, concatenate
from facepoints.data.landmarks import LandmarkSample, read_landmark_csv, read_pts_folder
from facepoints.data.mixed import stack_sets
from facepoints.data.packed import load_packed
from facepoints.errors import DataError, FacepointsError
from facepoints.schemes import Scheme, register_scheme

LAYOUTS = "a Kaggle training.csv/.zip, a landmark .csv (image, x0, y0, ...), a folder of .pts files or a packed .npz"


def load_dataset(path: str | Path, scheme: Scheme | None = None) -> KeypointSet:
    """A KeypointSet from any training-data layout; landmark photos come back as aligned crops
    (PHOTO_FRAMING). Faces whose photo cannot be read are left out with a warning. ``scheme``
    (a user's) names the points of a landmark CSV."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, "not found")
    suffix = path.suffix.lower()
    if path.is_dir():
        return _aligned(path, *read_pts_folder(path))
    if suffix == ".npz":
        return load_packed(path)
    if suffix == ".zip" or (suffix == ".csv" and "left_eye_center_x" in _header(path)):
        return read_fkd_training(path)
    if scheme is not None:
        if suffix != ".csv":
            raise DataError(path, f"--scheme {scheme.name} applies to landmark CSVs only")
        if not scheme.reference:
            raise DataError(path, f"scheme {scheme.name} states no 'reference' points (eyes, nose, mouth "
                                  "corners) to frame its photos by")
        return _aligned(path, *read_landmark_csv(path, scheme=register_scheme(scheme)))
    if suffix == ".csv" and "x0" in _header(path):
        return _aligned(path, *read_landmark_csv(path))
    raise DataError(path, f"unknown data layout: expected {LAYOUTS}")


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", errors="replace") as stream:
        return [name.strip() for name in stream.readline().split(",")]


def _aligned(path: Path, samples: list[LandmarkSample], scheme: str) -> KeypointSet:
    crops, skipped = aligned_crops(samples, scheme, source=str(path))
    if skipped and not len(crops):
        raise DataError(path, f"no face could be cropped; first: {skipped[0][0]}: {skipped[0][1]}")
    if skipped:
        warnings.warn(f"{path}: left out {len(skipped)} of {len(samples)} faces; first: {skipped[0][0]}: {skipped[0][1]}")
    return crops


def load_training_set(data: list[Path], groups: Path | None = None, scheme: Scheme | None = None) -> KeypointSet:
    """Read one or more data sets and combine them, keeping their groups apart. Sets of different
    schemes keep their own labels (data/mixed.py); the first set's scheme is the model's. A set
    with no face, or no keypoint labelled on any, is refused: there is nothing to train on or score."""
    sets = [load_dataset(path, scheme) for path in data]
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
