"""The geometric check finds displaced labels from the shape alone, on real faces."""

import numpy as np

from facepoints.audit.shape import check_shapes
from facepoints.data.fkd import read_fkd_training


def test_planted_eye_displacements_are_found_by_shape_alone(fkd_dir):
    ks = read_fkd_training(fkd_dir / "training.zip")
    clean = {f.index for f in check_shapes(ks)}
    # Eyes: the shape pins them within about a pixel. (A nose tip moves with the head's turn, which
    # a similarity cannot follow; the pixel check in labels.py is the one that catches noses.)
    eye = ks.scheme.index("right_eye_center")
    rng = np.random.default_rng(0)
    planted = [i for i in rng.permutation(len(ks)) if ks.mask[i].all() and i not in clean][:10]
    angles = rng.uniform(0, 2 * np.pi, len(planted))
    points = ks.points.copy()
    points[planted, eye] += 15 * np.stack([np.cos(angles), np.sin(angles)], -1)
    found = {f.index: f for f in check_shapes(ks.with_points(points, ks.mask))}
    assert all(i in found and "right_eye_center" in found[i].reason for i in planted)
    # It does not flag faces wholesale: the real data's suspects stay a small minority.
    assert len(clean) < 0.02 * len(ks)
