"""What facepoints gives beside the points, measured on 300-W faces: head pose, aligned crops,
per-point confidence, and what each costs on the CPU.

    python benchmarks/face_extras.py --data ../shared/data --out docs/results/face_extras.json
    python benchmarks/face_extras.py --data ../shared/data --fit-confidence   # refits assets/confidence.json

Held-out faces: the 300-W faces of the photo model's validation photos (docs/results/photo68/split.json,
``val_groups``; the three bundled 68-point models were trained on that same split). The confidence curve
is fitted on the other (training) 300-W faces. Each labelled face is matched to the detected face whose
box holds the labels' centroid (nearest box centre if several); faces with none are skipped.

- pose: |pose(labelled points) - pose(predicted points)| per angle, by the labels' |yaw| bin
  (frontal < 15, moderate 15-30, large >= 30 degrees: 300-W's labelled faces reach about 45).
- crops: each face aligned to the arcface and head templates from its predicted points; the
  keypoints found again on the crop (detector and model on the crop alone): eye-centre distance to
  the template's, in crop pixels; beside it, where the same fit puts the labelled eyes (the least a
  perfect model could get: the template is not shaped like every face).
- confidence: Spearman correlation of confidence with error (negative is good; reported as
  -rho) over all points, and within each point across faces (mean over the points) for the flip-test spread (what the package uses) and for the spread between the direct
  pass and one on a crop shifted by 3 px (an alternative that costs another pass); the occlusion
  test: a grey box over the mouth, mouth and eye points' confidence before and after.
- cost: ms per face of pose, openness, confidence and an aligned crop, beside the keypoint model's
  own ms per face (one ready crop through ONNX Runtime, flip test on), 2 threads.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from facepoints.align import aligned_crop, alignment_matrix, template_points
from facepoints.confidence import confidence_features, point_confidence
from facepoints.crop import apply_affine, crop_face
from facepoints.data.landmarks import read_landmark_csv
from facepoints.fileio import write_text_atomic
from facepoints.imageio import read_image
from facepoints.inference import FaceKeypointer
from facepoints.openness import openness
from facepoints.pose import POSE_BINS, head_pose, pose_bin

REPO = Path(__file__).resolve().parents[1]
SPLIT = REPO / "docs" / "results" / "photo68" / "split.json"
ASSET = REPO / "src" / "facepoints" / "assets" / "confidence.json"
TOLERANCE = 0.1  # a point is "right" within a tenth of the eye-centre distance
def faces(data: Path, held_out: bool) -> list:
    samples, _ = read_landmark_csv(data / "w300" / "faces" / "keypoints.csv")
    groups = set(json.loads(SPLIT.read_text())["val_groups"])
    return [s for s in samples if (f"w300:{s.group}" in groups) == held_out and s.mask.all()]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def eye_distance(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[42:48].mean(0) - points[36:42].mean(0)))


def matched(keypointer: FaceKeypointer, image: np.ndarray, labels: np.ndarray):
    """The detection of the labelled face, or None."""
    centre = labels.mean(0)
    inside = [d for d in keypointer.detector(image)
              if d.box[0] <= centre[0] <= d.box[0] + d.box[2] and d.box[1] <= centre[1] <= d.box[1] + d.box[3]]
    return min(inside, key=lambda d: np.linalg.norm(d.box[:2] + d.box[2:] / 2 - centre), default=None)


def passes(keypointer: FaceKeypointer, image: np.ndarray, detection, shift: float = 3.0):
    """Predicted points, flip-test spread (crop px) and the shifted pass's spread (crop px)."""
    model = keypointer.model
    crops, matrices = keypointer.frame(image, [detection])
    points, spread = model.predict_with_spread(crops)
    moved = matrices[0].copy()
    moved[:, 2] += shift
    shifted = model.predict(crop_face(keypointer._model_colours(image), moved, model.framing.size)[None])
    shifted_spread = np.linalg.norm(points[0] - shifted[0] + shift, axis=-1)
    return keypointer.to_image(points, matrices)[0], spread[0], shifted_spread


def measure_confidence(keypointer, samples, name: str, fit: bool = False) -> dict:
    """The report's confidence and pose figures; with ``fit``, only the spreads and errors to fit on."""
    spreads, shifted, errors, pose_rows, occlusion = [], [], [], [], []
    for s in samples:
        image = read_image(s.image)
        detection = matched(keypointer, image, s.points)
        if detection is None:
            continue
        points, spread, shift_spread = passes(keypointer, image, detection)
        spreads.append(spread), shifted.append(shift_spread)
        errors.append(np.linalg.norm(points - s.points, axis=-1) / eye_distance(s.points))
        if fit:
            continue
        truth, found = head_pose(s.points), head_pose(points)
        pose_rows.append([truth.yaw, abs(truth.yaw - found.yaw), abs(truth.pitch - found.pitch),
                          abs(truth.roll - found.roll)])
        covered = image.copy()
        x0, y0 = s.points[48:68].min(0) - 0.1 * eye_distance(s.points)
        x1, y1 = s.points[48:68].max(0) + 0.1 * eye_distance(s.points)
        covered[max(0, int(y0)) : int(y1) + 1, max(0, int(x0)) : int(x1) + 1] = 128
        _, covered_spread, _ = passes(keypointer, covered, detection)
        occlusion.append([spread, covered_spread])
    size = keypointer.model.framing.size
    spreads, shifted, errors = np.array(spreads), np.array(shifted), np.array(errors)
    if fit:
        return {"spreads": spreads, "errors": errors}
    confidence = point_confidence(spreads, size, name)
    before, after = (point_confidence(np.array(o), size, name) for o in zip(*occlusion))
    poses = np.array(pose_rows)
    return {
        "faces": len(errors),
        "rank_correlation": {"flip_spread": -spearman(spreads.ravel(), errors.ravel()),
                             "shifted_pass_spread": -spearman(shifted.ravel(), errors.ravel()),
                             "confidence": -spearman(confidence.ravel(), errors.ravel()),
                             # within each point across faces: what the confidence says about this face
                             "confidence_within_point": float(np.mean([-spearman(c, e) for c, e in zip(confidence.T, errors.T)])),
                             "flip_spread_within_point": float(np.mean([-spearman(c, e) for c, e in zip(spreads.T, errors.T)]))},
        "reliability": reliability(confidence, errors),
        "occlusion": {"mouth_before": float(before[:, 48:68].mean()), "mouth_after": float(after[:, 48:68].mean()),
                      "eyes_before": float(before[:, 36:48].mean()), "eyes_after": float(after[:, 36:48].mean()),
                      "faces_mouth_dropped": float(np.mean(after[:, 48:68].mean(1) < before[:, 48:68].mean(1)))},
        "pose_error_degrees": {
            label: {"faces": int(m.sum()), **({k: float(np.median(poses[m, i])) for i, k in
                                               enumerate(["yaw", "pitch", "roll"], 1)} if m.any() else {})}
            for index, (label, _, _) in enumerate(POSE_BINS) for m in [pose_bin(poses[:, 0]) == index]},
    }


def reliability(confidence: np.ndarray, errors: np.ndarray) -> list[dict]:
    """Share of points within TOLERANCE per confidence bin: a calibrated confidence matches it."""
    rows = []
    for lo in np.arange(0, 1, 0.2):
        m = (confidence >= lo) & (confidence < lo + 0.2)
        if m.any():
            rows.append({"confidence": f"{lo:.1f}-{lo + 0.2:.1f}", "points": int(m.sum()),
                         "mean_confidence": float(confidence[m].mean()), "share_right": float((errors[m] < TOLERANCE).mean())})
    return rows


def fit_logistic(spreads: np.ndarray, right: np.ndarray, crop_size: int, steps: int = 30) -> dict:
    """P(right) = sigmoid(points[k] + slope * log spread + face_slope * the face's mean log spread)
    (facepoints.confidence), by Newton's method on (faces, K) spreads."""
    log_spread, face = confidence_features(spreads, crop_size)
    n, k = spreads.shape
    x = np.concatenate([log_spread.reshape(-1, 1), face.reshape(-1, 1), np.tile(np.eye(k), (n, 1))], 1)
    y, w = right.ravel().astype(float), np.zeros(k + 2)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ w))
        w += np.linalg.solve(x.T @ (x * (p * (1 - p))[:, None]) + 1e-4 * np.eye(k + 2), x.T @ (y - p))
    return {"slope": round(float(w[0]), 4), "face_slope": round(float(w[1]), 4), "points": np.round(w[2:], 4).tolist()}


def measure_crops(keypointer, samples, template: str, size: int) -> dict:
    errors, offsets, to_placed, labels_fit = [], [], [], []
    for s in samples:
        # The labels' own five points through the same fit: how far a perfect model's eyes would land.
        labelled = apply_affine(s.points[36:48].reshape(2, 6, 2).mean(1), alignment_matrix(s.points, "ibug68", size, template))
        labels_fit.append(np.linalg.norm(labelled - template_points(template, size)[:2], axis=-1))
        image = read_image(s.image)
        detection = matched(keypointer, image, s.points)
        if detection is None:
            continue
        points = keypointer.face(detection.box, detection.score, passes(keypointer, image, detection)[0]).keypoints
        crop = aligned_crop(image, points, "ibug68", size, template)
        placed = apply_affine(points[36:48].reshape(2, 6, 2).mean(1), alignment_matrix(points, "ibug68", size, template))
        found = keypointer(crop, scheme="celeba5")
        if found:
            best = min(found, key=lambda f: np.linalg.norm(f.keypoints[:2] - template_points(template, size)[:2]))
            offset = best.keypoints[:2] - template_points(template, size)[:2]
            errors.append(np.linalg.norm(offset, axis=-1))
            offsets.append(offset)
            to_placed.append(np.linalg.norm(best.keypoints[:2] - placed, axis=-1))
    errors = np.array(errors)
    return {"faces": len(errors), "median_px": float(np.median(errors)), "p90_px": float(np.percentile(errors, 90)),
            "share_within_2px": float((errors < 2).mean()), "mean_offset_px": np.mean(offsets, axis=(0, 1)).tolist(),
            "median_px_to_where_the_fit_put_the_eyes": float(np.median(to_placed)),
            "share_within_2px_of_where_the_fit_put_the_eyes": float((np.array(to_placed) < 2).mean()),
            "labels_fit_median_px": float(np.median(labels_fit)), "labels_fit_share_within_2px": float((np.array(labels_fit) < 2).mean())}


def measure_cost(keypointer, samples, repeats: int = 3) -> dict:
    image = read_image(samples[0].image)
    face = keypointer(image)[0]
    crops, _ = keypointer.frame(image, [matched(keypointer, image, samples[0].points)])
    spread = keypointer.model.predict_with_spread(crops)[1]
    jobs = {"keypoint_model": lambda: keypointer.model.predict(crops),
            "pose": lambda: head_pose(face.keypoints), "openness": lambda: openness(face.keypoints),
            "confidence": lambda: point_confidence(spread, keypointer.model.framing.size),
            "aligned_crop_112": lambda: face.aligned(image, 112, "arcface")}
    ms = {}
    for name, job in jobs.items():
        job()
        start, n = time.perf_counter(), 0
        while time.perf_counter() - start < 1.0 * repeats:
            job()
            n += 1
        ms[name] = (time.perf_counter() - start) / n * 1000
    return {"ms_per_face": ms, "share_of_keypoint_model": {k: v / ms["keypoint_model"] for k, v in ms.items()}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--models", default="ibug68,ibug68-fast,ibug68-tiny")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "results" / "face_extras.json")
    parser.add_argument("--fit-confidence", action="store_true", help="fit the confidence curves on training faces")
    parser.add_argument("--limit", type=int, default=600, help="faces per set at most (evenly spaced)")
    args = parser.parse_args()

    def subset(samples):
        return [samples[i] for i in np.linspace(0, len(samples) - 1, min(args.limit, len(samples))).astype(int)]

    models = args.models.split(",")
    if args.fit_confidence:
        curves = {}
        for name in models:
            keypointer = FaceKeypointer(name, threads=2)
            found = measure_confidence(keypointer, subset(faces(args.data, held_out=False)), name, fit=True)
            curves[name] = fit_logistic(found["spreads"], found["errors"] < TOLERANCE, keypointer.model.framing.size)
            print(name, curves[name]["slope"], curves[name]["face_slope"])
        write_text_atomic(ASSET, json.dumps({"tolerance": TOLERANCE, "fitted_on": "300-W training faces, "
                                             "benchmarks/face_extras.py --fit-confidence", "models": curves}, indent=1) + "\n")
        return
    report, held_out = {}, subset(faces(args.data, held_out=True))
    for name in models:
        keypointer = FaceKeypointer(name, threads=2)
        found = measure_confidence(keypointer, held_out, name)
        found["crops"] = {t: measure_crops(keypointer, held_out, t, 112) for t in ("arcface", "head")}
        found["cost"] = measure_cost(keypointer, held_out)
        report[name] = found
        print(name, json.dumps(found, indent=1))
    write_text_atomic(args.out, json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
