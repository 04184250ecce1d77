"""The whole audit of one KeypointSet: every check, and the ranked suspects they add up to."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from facepoints.audit.crossval import FOLDS, fold_of_groups
from facepoints.audit.duplicates import Duplicates, find_duplicates
from facepoints.audit.features import face_features, working_images
from facepoints.audit.images import check_images
from facepoints.audit.labels import LabelCheck, check_labels
from facepoints.audit.missing import MissingStats, missing_stats
from facepoints.audit.shape import check_shapes
from facepoints.audit.suspects import Suspect, rank_suspects
from facepoints.data.keypoint_set import KeypointSet
from facepoints.errors import DataError

MIN_FACES = 20  # fewer, and a fold of the label check has nothing to learn from
STEPS = 3 + FOLDS  # for a progress bar: features, duplicates, each fold of the label check, pictures


@dataclass
class AuditResult:
    keypoints: KeypointSet
    missing: MissingStats
    duplicates: Duplicates
    labels: LabelCheck
    suspects: list[Suspect]
    seconds: float


def audit_keypoint_set(ks: KeypointSet, on_step: Callable[[str], None] | None = None) -> AuditResult:
    """Run every check; on_step(description of the step now starting) is called STEPS times."""
    if len(ks) < MIN_FACES:
        raise DataError(ks.source or "data", f"{len(ks)} faces are too few to audit (at least {MIN_FACES})")
    started = time.perf_counter()
    step = on_step or (lambda description: None)
    step("reading faces")
    grey = working_images(ks.images)
    features = face_features(grey)
    step("finding duplicates")
    duplicates = find_duplicates(ks.images, grey, ks.rows)
    fold = fold_of_groups(duplicates.group)
    later_steps = iter([f"checking labels (fold {f} of {FOLDS})" for f in range(2, FOLDS + 1)] + ["checking pictures"])
    step(f"checking labels (fold 1 of {FOLDS})")
    labels = check_labels(ks, features, fold, on_fold=lambda: step(next(later_steps)))
    images = check_images(grey, ks.image_size)
    # The shape check adds the faces the pixel model missed; where both flag a face, the label
    # check's reason (model-backed, swaps named) is the one to act on.
    flagged = {f.index for f in labels.findings}
    shapes = [f for f in check_shapes(ks) if f.index not in flagged]
    suspects = rank_suspects(duplicates.findings + labels.findings + shapes + images, ks.rows, duplicates.group)
    return AuditResult(ks, missing_stats(ks.mask, ks.scheme), duplicates, labels, suspects,
                       time.perf_counter() - started)
