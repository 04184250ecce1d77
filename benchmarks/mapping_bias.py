"""Bias of the approximate scheme mappings: where human 5-point labels sit against the celeba5
mapping of 68 points (eye centre = mean of the eye's six points, nose tip = 30, mouth corners 48, 54).

    PYTHONPATH=src python benchmarks/pseudo_labels.py --data ../shared/data --out .data/mtfl_pseudo
    PYTHONPATH=src python benchmarks/mapping_bias.py --data ../shared/data --teacher-points .data/mtfl_pseudo/teacher.npz \\
        --split docs/results/photo68/split.json --out docs/results/mapping_bias.json

MTFL has 5 human labels and no 68, so the 68 points are the bundled ibug68's predictions (the
teacher of pseudo_labels.py, which stores them). The model's own error then mixes in: as a
control, the same model on held-out faces68 and 300-W faces, whose 68 labels map to 5 points,
gives the offset the model alone adds. Offsets are in the face's frame (x along the labelled eye
line toward the image's right eye, y perpendicular to it, down the face) over the labelled
eye-centre distance, so roll and face size drop out; per point: mean and standard deviation, and
the mean per pose bin (facepoints.pose.POSE_BINS of the labels' yaw, with yaw's sign folded so
that x points toward the side the face turns to).

fkd15's labels are not measured here: its 15 points were computed from the faces68 68-point labels
with this very mapping (../shared/data/README.md), so its bias is zero by construction.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from photo_keypoints import load_faces  # noqa: E402
from pseudo_labels import load_or_label, mtfl_source, teacher_points  # noqa: E402

from facepoints.pose import POSE_BINS, label_yaw, pose_bin  # noqa: E402
from facepoints.schemes import CELEBA5, convert_points  # noqa: E402


def face_frame_offsets(pred5: np.ndarray, labels5: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """(N, 5, 2) pred - labels in the face's frame over the labelled eye distance; x is negated
    for faces turned toward the image's left, so +x is the side the face turns to."""
    axis = labels5[:, 1] - labels5[:, 0]
    distance = np.linalg.norm(axis, axis=-1, keepdims=True)
    u = axis / distance
    v = np.stack([-u[:, 1], u[:, 0]], -1)
    delta = pred5 - labels5
    along = (delta * u[:, None]).sum(-1) * np.where(yaw < 0, -1.0, 1.0)[:, None]
    across = (delta * v[:, None]).sum(-1)
    return np.stack([along, across], -1) / distance[:, :, None]


def describe(offsets: np.ndarray, bins: np.ndarray) -> dict:
    table = {"faces": int(len(offsets)), "points": {}}
    for k, name in enumerate(CELEBA5.names):
        row = {"mean": offsets[:, k].mean(0).round(4).tolist(), "std": offsets[:, k].std(0).round(4).tolist()}
        for index, (bin_name, _, _) in enumerate(POSE_BINS):
            chosen = offsets[bins == index, k]
            row[f"mean_{bin_name}"] = chosen.mean(0).round(4).tolist() if len(chosen) else None
        table["points"][name] = row
    table["bin_counts"] = {name: int((bins == i).sum()) for i, (name, _, _) in enumerate(POSE_BINS)}
    return table


def measure(pred68: np.ndarray, labels: np.ndarray, mask: np.ndarray, scheme: str) -> dict:
    pred5 = convert_points(pred68, np.ones(pred68.shape[:2], bool), "ibug68", "celeba5")[0]
    labels5 = convert_points(labels, mask, scheme, "celeba5")[0]
    yaw = label_yaw(labels, mask, scheme)
    return describe(face_frame_offsets(pred5, labels5, yaw), pose_bin(yaw))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--teacher", default="ibug68")
    parser.add_argument("--teacher-points", type=Path, default=Path(".data/mtfl_pseudo/teacher.npz"),
                        help="pseudo_labels.py's teacher.npz (made here if missing)")
    parser.add_argument("--split", type=Path, default=Path("docs/results/photo68/split.json"))
    parser.add_argument("--out", type=Path, default=Path("runs/mapping_bias.json"))
    args = parser.parse_args()
    samples, points = load_or_label(args.data, args.teacher, args.teacher_points, reuse=True)
    results = {"teacher": args.teacher, "sets": {}}
    sources = np.array([mtfl_source(s) for s in samples])
    labels = np.stack([s.points for s in samples])
    for source in ("lfw", "web"):
        chosen = sources == source
        results["sets"][f"mtfl_{source}"] = measure(points[chosen], labels[chosen], np.ones((chosen.sum(), 5), bool),
                                                    "celeba5")
    for name, faces in load_faces(args.data, args.split).items():
        pred = teacher_points(faces, args.teacher, scheme="ibug68")
        results["sets"][f"{name}_held_out (control)"] = measure(
            pred, np.stack([s.points for s in faces]), np.stack([s.mask for s in faces]), "ibug68")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    for name, table in results["sets"].items():
        print(f"{name} ({table['faces']} faces, bins {table['bin_counts']})")
        for point, row in table["points"].items():
            print(f"  {point}: mean {row['mean']} std {row['std']} large {row['mean_large']}")


if __name__ == "__main__":
    main()
