"""Landmark photos -> same-size training crops framed the way inference frames a face.

Each face is cut by the similarity transform that puts its own reference points (eyes, nose,
mouth corners) onto the framing's template, with the same crop code inference uses, so a model
sees in training exactly the framing it will see later.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from rich.console import Console
from rich.progress import track

from facepoints.crop import PHOTO_FRAMING, Framing, apply_affine, crop_face, framing_transform, reference_points
from facepoints.data.keypoint_set import KeypointSet
from facepoints.data.landmarks import LandmarkSample
from facepoints.errors import DataError
from facepoints.imageio import read_image
from facepoints.schemes import get_scheme


def aligned_crops(
    samples: Sequence[LandmarkSample],
    scheme: str,
    framing: Framing = PHOTO_FRAMING,
    progress: bool = False,
    source: str = "",
) -> tuple[KeypointSet, list[tuple[str, str]]]:
    """(crops, skipped): a KeypointSet of (N, S, S, 3) uint8 crops with their points moved into
    the crop, rows = sample names; and (name, reason) for each face left out because its image
    could not be read or its reference points are unlabelled or coincide. One bad photo never stops a set.
    """
    size = framing.size
    images = np.empty((len(samples), size, size, 3), dtype=np.uint8)
    points = np.empty((len(samples), len(samples[0].points) if samples else 0, 2), dtype=np.float32)
    kept: list[LandmarkSample] = []
    skipped: list[tuple[str, str]] = []
    last_path, image = None, None  # the faces of one photo come in a run: decode it once
    for sample in track(samples, description="cropping faces", disable=not progress, transient=True,
                        console=Console(stderr=True)):
        reference, known = reference_points(sample.points, sample.mask, scheme, framing)
        if not known.all():
            skipped.append((sample.name, "reference points (eyes, nose, mouth corners) not all labelled"))
            continue
        matrix = framing_transform(reference, framing)
        if not abs(np.linalg.det(matrix[:, :2])) > 1e-12:  # also catches NaN
            skipped.append((sample.name, "reference points coincide: the face has no size"))
            continue
        if sample.image != last_path:
            try:
                image = read_image(sample.image)
            except DataError as error:
                last_path, image = None, None
                skipped.append((sample.name, str(error)))
                continue
            last_path = sample.image
        images[len(kept)] = crop_face(image, matrix, size)
        points[len(kept)] = apply_affine(sample.points, matrix)
        kept.append(sample)
    count = len(kept)
    crops = KeypointSet(
        images=images[:count].copy() if count < len(samples) else images,
        points=points[:count],
        mask=np.array([s.mask for s in kept], dtype=bool).reshape(count, points.shape[1]),
        scheme=get_scheme(scheme),
        groups=np.array([s.group for s in kept], dtype=str),
        rows=np.array([s.name for s in kept], dtype=str),
        source=source,
        framing=framing,
    )
    return crops, skipped
