"""What the detector's framing costs: held-out faces framed from YuNet's five points (as `detect`
frames them) against the same faces framed from their labels, one model pass each.

    python benchmarks/framing_gap.py --data ../shared/data --split docs/results/photo68/split.json

For each face: NME both ways, the mean signed point offset (prediction - label, in eye
distances), and the similarity between the two crops (scale, rotation, shift of the crop centre,
in crop pixels). A constant offset in the second column is a bias, not noise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from photo_keypoints import Found, load_faces, match_face

from facepoints.crop import apply_affine, framing_transform, invert_affine, reference_points
from facepoints.evaluation import per_image_nme
from facepoints.imageio import read_image
from facepoints.inference import FaceKeypointer
from facepoints.schemes import get_scheme


def crop_to_crop(from_detector: np.ndarray, from_labels: np.ndarray, size: int) -> tuple[float, float, np.ndarray]:
    """Scale, rotation (degrees) and centre shift (crop px) taking the detector's crop to the labels'."""
    both = np.vstack([from_labels, [0, 0, 1]]) @ np.vstack([invert_affine(from_detector), [0, 0, 1]])
    centre = np.full((1, 2), (size - 1) / 2)
    shift = apply_affine(centre, both[:2])[0] - centre[0]
    return float(np.sqrt(abs(np.linalg.det(both[:2, :2])))), float(np.degrees(np.arctan2(both[1, 0], both[0, 0]))), shift


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", type=Path, required=True, help="the model's split.json: held-out faces only")
    parser.add_argument("--model", default="ibug68")
    args = parser.parse_args()
    keypointer = FaceKeypointer(args.model, threads=2)
    framing, scheme = keypointer.model.framing, get_scheme("ibug68")
    results = {}
    for name, samples in load_faces(args.data, args.split).items():
        rows = []
        for sample in samples:
            image = read_image(sample.image)
            detections = [d for d in keypointer.detector(image) if d.landmarks is not None]
            m = match_face([Found(d.landmarks, d.box) for d in detections], sample.points, "ibug68")
            if m < 0:
                continue
            detection = detections[m]
            by_detector = framing_transform(detection.landmarks[: framing.num_reference], framing)
            labels_ref, _ = reference_points(sample.points, np.ones(68, bool), "ibug68", framing)
            by_labels = framing_transform(labels_ref, framing)
            eye_distance = np.linalg.norm(sample.points[45] - sample.points[36])
            row = {}
            # One pass each: framed as `detect` frames it, and from the labels (as tracking reframes).
            framed = {"detector": keypointer.frame(image, [detection]),
                      "labels": keypointer.frame_from(image, sample.points[None])}
            predictions = {how: keypointer.to_image(keypointer.model.predict(crops), matrices)[0]
                           for how, (crops, matrices) in framed.items()}
            for how, points in predictions.items():
                row[f"nme_{how}"] = float(per_image_nme(points[None], sample.points[None], np.ones((1, 68), bool), scheme)[0])
                row[f"offset_{how}"] = ((points - sample.points).mean(0) / eye_distance).tolist()
            row["scale"], row["rotation"], row["shift"] = crop_to_crop(by_detector, by_labels, framing.size)
            rows.append(row)
        scales, shifts = np.array([r["scale"] for r in rows]), np.array([r["shift"] for r in rows])
        results[name] = {
            "faces": len(rows),
            **{f"nme_{how}": round(float(np.mean([r[f"nme_{how}"] for r in rows])), 4) for how in ("detector", "labels")},
            **{f"mean_offset_{how}_eye_distances": np.mean([r[f"offset_{how}"] for r in rows], 0).round(4).tolist()
               for how in ("detector", "labels")},
            "crop_scale_sd": round(float(np.std(np.log(scales))), 3),
            "crop_rotation_sd_deg": round(float(np.std([r["rotation"] for r in rows])), 2),
            "crop_shift_mean_px": shifts.mean(0).round(2).tolist(),
            "crop_shift_sd_px": shifts.std(0).round(2).tolist(),
        }
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
