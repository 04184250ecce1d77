"""Kaggle FKD submission files: the coordinates the IdLookupTable asks for, one per RowId."""

from __future__ import annotations

import os

import numpy as np

from facepoints.data.fkd import IdLookup
from facepoints.errors import DataError
from facepoints.fileio import write_text_atomic
from facepoints.schemes import FKD15


def write_submission(
    path: str | os.PathLike,
    lookup: IdLookup,
    image_ids: np.ndarray,
    predictions: np.ndarray,
    image_size: int = 96,
) -> None:
    """Write ``RowId,Location`` for every lookup row, in lookup order.

    predictions[i] (FKD15, (15, 2) x/y pixels) belongs to image_ids[i]. Values are clipped to the
    image: every true point lies inside it, so clipping can only bring a prediction closer.
    """
    image_ids = np.asarray(image_ids)
    predictions = np.asarray(predictions)
    _check_predictions(image_ids, predictions)
    index = _prediction_index(lookup, image_ids)
    values = predictions[index, lookup.keypoints, lookup.axes]
    values = np.clip(values, 0.0, float(image_size))
    lines = ["RowId,Location"]
    lines += [f"{row_id},{value:.4f}" for row_id, value in zip(lookup.row_ids, values)]
    write_text_atomic(path, "\n".join(lines) + "\n")


def _check_predictions(image_ids: np.ndarray, predictions: np.ndarray) -> None:
    expected = (len(image_ids), FKD15.num_keypoints, 2)
    if predictions.shape != expected:
        raise ValueError(f"predictions have shape {predictions.shape}, expected {expected}")
    if not np.isfinite(predictions).all():
        raise ValueError("predictions hold NaN or infinite values")
    if len(np.unique(image_ids)) != len(image_ids):
        raise ValueError("image_ids repeat: each image needs exactly one prediction")


def _prediction_index(lookup: IdLookup, image_ids: np.ndarray) -> np.ndarray:
    """Position in image_ids of each lookup row's image; DataError for an image with no prediction."""
    position = {int(image_id): i for i, image_id in enumerate(image_ids)}
    index = np.empty(len(lookup), dtype=np.int64)
    for entry, (row_id, image_id) in enumerate(zip(lookup.row_ids, lookup.image_ids)):
        if int(image_id) not in position:
            raise DataError(
                lookup.source, f"RowId {row_id} asks for ImageId {image_id}, which has no prediction"
            )
        index[entry] = position[int(image_id)]
    return index
