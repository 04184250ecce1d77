"""Pick the reader for a training-data path by its layout."""

from __future__ import annotations

from pathlib import Path

from facepoints.data.keypoint_set import KeypointSet
from facepoints.errors import DataError


def load_dataset(path: str | Path) -> KeypointSet:
    """A KeypointSet from a Kaggle training.csv/.zip (more layouts plug in here)."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, "not found")
    if path.suffix.lower() in (".csv", ".zip"):
        from facepoints.data.fkd import read_fkd_training

        return read_fkd_training(path)
    raise DataError(path, "unknown data layout: expected a Kaggle training.csv or .zip")
