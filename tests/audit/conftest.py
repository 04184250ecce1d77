"""The real FKD set, audited once per session, as found and with planted faults."""

from dataclasses import replace

import numpy as np
import pytest

from facepoints.audit import audit_keypoint_set
from facepoints.data.fkd import read_fkd_training

NOSE, LEFT_EYE, RIGHT_EYE = 10, 0, 1


@pytest.fixture(scope="session")
def fkd(fkd_dir):
    return read_fkd_training(fkd_dir / "training.zip")


@pytest.fixture(scope="session")
def fkd_audit(fkd):
    return audit_keypoint_set(fkd)


@pytest.fixture(scope="session")
def planted(fkd, fkd_audit):
    """FKD with wrong labels planted on rows the real audit does not suspect: nose tips moved
    12 px (a third of the eye distance) in random directions, and left/right eyes swapped."""
    rng = np.random.default_rng(7)
    # Rows the pixel and picture checks do not suspect (the planted faults test those checks; the
    # geometric check's own suspects are left in the pool so the draw does not depend on it).
    suspected = [s.index for s in fkd_audit.suspects if not s.reason.endswith("off the face's shape")]
    clean = np.setdiff1d(np.flatnonzero(fkd.mask[:, [NOSE, LEFT_EYE, RIGHT_EYE]].all(axis=1)), suspected)
    rows = rng.choice(clean, 15, replace=False)
    nose_rows, swap_rows = rows[:10], rows[10:]
    points = fkd.points.copy()
    angle = rng.uniform(0, 2 * np.pi, len(nose_rows))
    points[nose_rows, NOSE] += 12 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    points[swap_rows, LEFT_EYE], points[swap_rows, RIGHT_EYE] = fkd.points[swap_rows, RIGHT_EYE], fkd.points[swap_rows, LEFT_EYE]
    result = audit_keypoint_set(replace(fkd, points=points))
    return result, nose_rows, swap_rows
