"""Fit the generic 3-D face that head pose is measured against, from labelled 2-D faces alone.

    python tools/fit_face3d.py ../shared/data     # -> src/facepoints/assets/face68_3d.json

The 300-W training faces (not the photo model's held-out photos) show the same 68 points from many
directions. Rigid structure from motion (Tomasi and Kanade's factorisation under scaled orthography,
with the usual metric upgrade) recovers the mean 3-D shape that best explains them all; expression
differences average out. The shape is then made left-right symmetric and put in the head frame of
facepoints.pose: x toward the subject's left (the image's right when frontal), y down, z away from the
camera, origin at the points' centroid, units such that the eye centres are 63 mm apart.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from facepoints.data.landmarks import read_landmark_csv
from facepoints.schemes import IBUG68

ASSET = Path(__file__).resolve().parents[1] / "src" / "facepoints" / "assets" / "face68_3d.json"
SPLIT = Path(__file__).resolve().parents[1] / "docs" / "results" / "photo68" / "split.json"
EYE_DISTANCE_MM = 63.0


def factorise(shapes: np.ndarray) -> np.ndarray:
    """(N, 68, 2) centred 2-D shapes -> (3, 68) mean shape up to a rotation and a depth mirror."""
    w = shapes.transpose(0, 2, 1).reshape(-1, shapes.shape[1])
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    motion, shape = u[:, :3] * np.sqrt(s[:3]), np.sqrt(s[:3])[:, None] * vt[:3]

    def row(a, b):  # the coefficients of a L b for symmetric L's six entries
        return [a[0] * b[0], a[0] * b[1] + a[1] * b[0], a[0] * b[2] + a[2] * b[0], a[1] * b[1],
                a[1] * b[2] + a[2] * b[1], a[2] * b[2]]

    rows, rhs = [], []
    for a, b in zip(motion[0::2], motion[1::2]):
        rows += [np.subtract(row(a, a), row(b, b)), row(a, b)]
        rhs += [0.0, 0.0]
    rows.append(np.mean([row(a, a) for a in motion[0::2]], axis=0))
    rhs.append(1.0)
    l0, l1, l2, l3, l4, l5 = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]
    gram = np.array([[l0, l1, l2], [l1, l3, l4], [l2, l4, l5]])
    values, vectors = np.linalg.eigh(gram)
    upgrade = vectors * np.sqrt(np.clip(values, 1e-9, None))
    return np.linalg.solve(upgrade, shape)


def symmetric_head_frame(shape: np.ndarray) -> np.ndarray:
    """(3, 68) shape -> (68, 3) symmetric shape in the head frame of facepoints.pose."""
    perm = IBUG68.flip_permutation()
    shape = shape - shape.mean(1, keepdims=True)
    mirrored = np.diag([-1.0, 1.0, 1.0]) @ shape[:, perm]
    u, _, vt = np.linalg.svd(shape @ mirrored.T)
    rotation = u @ np.diag([1.0, 1.0, np.linalg.det(u @ vt)]) @ vt  # Kabsch: mirrored onto shape
    symmetric = (shape + rotation @ mirrored) / 2
    reflection = rotation @ np.diag([-1.0, 1.0, 1.0])
    values, vectors = np.linalg.eigh((reflection + reflection.T) / 2)
    x = vectors[:, np.argmin(values)]  # the symmetry plane's normal
    left_eye, right_eye = symmetric[:, 42:48].mean(1), symmetric[:, 36:42].mean(1)
    x *= np.sign(x @ (left_eye - right_eye))
    down = symmetric[:, [48, 54]].mean(1) - (left_eye + right_eye) / 2
    y = down - (down @ x) * x
    y /= np.linalg.norm(y)
    head = np.stack([x, y, np.cross(x, y)]) @ symmetric
    if head[2, 30] > head[2, [36, 45]].mean():  # the nose tip must come toward the camera
        head[2] *= -1
    head *= EYE_DISTANCE_MM / np.linalg.norm(head[:, 42:48].mean(1) - head[:, 36:42].mean(1))
    return head.T


def main(data: str) -> None:
    samples, _ = read_landmark_csv(Path(data) / "w300" / "faces" / "keypoints.csv")
    held_out = set(json.loads(SPLIT.read_text())["val_groups"])
    shapes = np.stack([s.points for s in samples if f"w300:{s.group}" not in held_out and s.mask.all()])
    shapes = shapes - shapes.mean(1, keepdims=True)
    head = symmetric_head_frame(factorise(shapes / np.linalg.norm(shapes, axis=(1, 2), keepdims=True)))
    ASSET.write_text(json.dumps({
        "about": "Generic 68-point (iBUG order) 3-D face for head pose, fitted by tools/fit_face3d.py to the "
                 f"300-W training faces ({len(shapes)}); mm, x to the subject's left, y down, z away from the camera.",
        "points": np.round(head, 2).tolist()}, indent=None))
    print(f"{len(shapes)} faces -> {ASSET}")


if __name__ == "__main__":
    main(*sys.argv[1:])
