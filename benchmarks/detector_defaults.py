"""YuNet's default score threshold and minimum face size, chosen by measurement; found rate by pose.

    python benchmarks/detector_defaults.py --data ../shared/data --out runs/detector_defaults

YuNet runs once per image at a low score floor with no size limit; every (threshold, minimum
size) pair is then scored on the recorded detections: recall of the labelled faces and the
detections matching none (benchmarks/detectors.py's matching). Sets: faces68 video frames (one
labelled face each: an unmatched detection there is nearly always a pattern, not a face), 300-W
face crops, AFW whole photos (some real faces carry no label, so their "false" count includes
real faces) and MTFL (LFW part and web part, 80x80 px: each image is one labelled face). Found
rate is also broken down by the labelled face's yaw (pose.label_yaw, pose.POSE_BINS) at the
defaults in facepoints.options.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from detectors import Photo, load_photos, match_detections  # same folder; sets the thread variables

import numpy as np  # noqa: E402
from facepoints.data.landmarks import read_landmark_csv  # noqa: E402
from facepoints.detectors.yunet import YuNet  # noqa: E402
from facepoints.fileio import write_text_atomic  # noqa: E402
from facepoints.imageio import read_image  # noqa: E402
from facepoints.options import MIN_FACE_SIZE, SCORE_THRESHOLD  # noqa: E402
from facepoints.pose import POSE_BINS, label_yaw, pose_bin  # noqa: E402

FLOOR = 0.3
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
MIN_SIZES = (0, 8, 12, 16, 20, 24, 32)
SETS = {"faces68": "faces68/keypoints.csv", "300-W faces": "w300/faces/keypoints.csv",
        "AFW photos": "w300/photos/keypoints.csv", "MTFL": "mtfl/keypoints.csv"}


# The five points' box is about this much smaller than a face's 68-point box (measured on 300-W's):
# enlarged by it, MTFL faces are matched by the same size window.
FIVE_TO_68_BOX = 2.1


def mtfl_parts(csv_path: Path) -> dict[str, list[Photo]]:
    """MTFL's photos split by its `source` column: the LFW part and the web part."""
    sources = [line.split(",", 1)[0] for line in csv_path.read_text().splitlines()[1:]]
    photos = load_photos(csv_path)
    for photo in photos:
        photo.faces = [face.mean(0) + (face - face.mean(0)) * FIVE_TO_68_BOX for face in photo.faces]
    by_name = dict(zip([s.image.name for s in read_landmark_csv(csv_path)[0]], sources))
    return {"MTFL LFW": [p for p in photos if by_name[p.path.name].startswith("lfw")],
            "MTFL web": [p for p in photos if not by_name[p.path.name].startswith("lfw")]}


def scores(detections: list, photos: list[Photo], threshold: float, min_size: float) -> dict:
    found = false = 0
    per_face = []
    for found_here, photo in zip(detections, photos):
        kept = [d for d in found_here if d.score >= threshold and min(d.box[2], d.box[3]) >= min_size]
        matched = match_detections([d.box for d in kept], photo.faces)
        found += sum(m >= 0 for m in matched)
        false += len(kept) - sum(m >= 0 for m in matched)
        per_face += [m >= 0 for m in matched]
    faces = len(per_face)
    return {"faces": faces, "recall": found / max(faces, 1), "false": false, "per_face": per_face}


def by_pose(photos: list[Photo], found: list[bool]) -> dict:
    points = np.stack([face for photo in photos for face in photo.faces])
    scheme = "ibug68" if points.shape[1] == 68 else "celeba5"
    mask = np.isfinite(points).all(-1)
    bins = pose_bin(label_yaw(np.nan_to_num(points), mask, scheme))
    found = np.asarray(found)
    return {name: {"faces": int((bins == i).sum()), "found_rate": float(found[bins == i].mean()) if (bins == i).any() else None}
            for i, (name, _, _) in enumerate(POSE_BINS)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    detector = YuNet(threshold=FLOOR, min_face=0)
    sets = {name: load_photos(args.data / path) for name, path in SETS.items() if name != "MTFL"}
    sets.update(mtfl_parts(args.data / SETS["MTFL"]))
    results = {}
    for name, photos in sets.items():
        detections = [detector(read_image(photo.path)) for photo in photos]
        print(f"{name}: {len(photos)} images", file=sys.stderr)
        grid = {f"{t:g}/{m}": scores(detections, photos, t, m) for t in THRESHOLDS for m in MIN_SIZES}
        chosen = scores(detections, photos, SCORE_THRESHOLD, MIN_FACE_SIZE)
        results[name] = {
            "images": len(photos),
            "grid": {key: {k: v for k, v in row.items() if k != "per_face"} for key, row in grid.items()},
            "by_pose_at_defaults": by_pose(photos, chosen["per_face"]),
        }
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "detector_defaults.json", json.dumps(results, indent=1))
    write_text_atomic(args.out / "table.md", markdown(results))
    print(markdown(results))


def markdown(results: dict) -> str:
    lines = ["| threshold / min px | " + " | ".join(f"{name}: recall, false" for name in results) + " |",
             "|---" * (len(results) + 1) + "|"]
    for key in next(iter(results.values()))["grid"]:
        cells = [f"{r['grid'][key]['recall']:.2%}, {r['grid'][key]['false']}" for r in results.values()]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    lines += ["", f"Found rate by pose at the defaults (threshold {SCORE_THRESHOLD}, min {MIN_FACE_SIZE} px):", "",
              "| set | " + " | ".join(name for name, _, _ in POSE_BINS) + " |", "|---" * (len(POSE_BINS) + 1) + "|"]
    for name, row in results.items():
        cells = [f"{b['found_rate']:.1%} of {b['faces']}" if b["faces"] else "-" for b in row["by_pose_at_defaults"].values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
