"""What exact halvings save: the detector's shrink and large faces' crops, against one
area-averaging resize by the exact fraction (how both were made before 2026-12-04).

    python benchmarks/resize_speed.py --data ../shared/data --out docs/results/resize_speed.json

Shrink: the 185 AFW photos (up to 1024 px) to 640 and 320 px. Crops: 200 held-out 300-W faces
enlarged 2, 3 and 5 times, each framed from YuNet's points as `detect` frames it, and ibug68's
NME on each way's crops (40 of them timed). Times are medians over the images, both ways taking
turns on each image.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from facepoints.crop import _footprint, crop_face, framing_transform
from facepoints.data.landmarks import read_landmark_csv
from facepoints.detectors.base import shrink
from facepoints.imageio import read_image
from facepoints.inference import FaceKeypointer

SPLIT = Path(__file__).parents[1] / "docs/results/photo68/split.json"


def exact_fraction_shrink(image: np.ndarray, max_side: int) -> np.ndarray:
    scale = min(1.0, max_side / max(image.shape[:2]))
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def exact_fraction_crop(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """crop_face before halvings: the crop's region shrunk by twice the crop's scale, then warped."""
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale < 0.5:
        factor = 2.0 * scale
        x0, y0, x1, y1 = _footprint(matrix, size, image.shape[1], image.shape[0], margin=2 / factor)
        image = cv2.resize(image[y0:y1, x0:x1], None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        to_full = np.array([[1 / factor, 0, 0.5 / factor - 0.5 + x0], [0, 1 / factor, 0.5 / factor - 0.5 + y0], [0, 0, 1]])
        matrix = matrix @ to_full
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def median_ms(ways: dict, jobs: list, repeats: int = 3) -> dict:
    times = {name: [] for name in ways}
    for job in jobs:
        for name, way in ways.items():
            started = time.perf_counter()
            for _ in range(repeats):
                way(*job)
            times[name].append((time.perf_counter() - started) / repeats)
    return {name: round(1000 * float(np.median(t)), 3) for name, t in times.items()}


def nme(keypointer: FaceKeypointer, crop, jobs: list, labels: list[np.ndarray]) -> float:
    """ibug68's mean NME (outer eye corners) on the faces, cropped one way."""
    errors = []
    for (image, matrix, size), points in zip(jobs, labels):
        predicted = keypointer.to_image(keypointer.model.predict(crop(image, matrix, size)[None]), [matrix])[0]
        errors.append(np.linalg.norm(predicted - points, axis=1).mean() / np.linalg.norm(points[45] - points[36]))
    return float(np.mean(errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--faces", type=int, default=200, help="held-out 300-W faces enlarged (the first 40 timed)")
    args = parser.parse_args()
    photos = [read_image(p) for p in sorted((args.data / "w300/photos/images").iterdir())]
    result = {"shrink_ms_per_photo": {
        size: median_ms({"exact fraction": exact_fraction_shrink, "halvings": shrink}, [(p, size) for p in photos])
        for size in (640, 320)}}

    held_out = set(json.loads(SPLIT.read_text())["val_groups"])
    samples, _ = read_landmark_csv(args.data / "w300/faces/keypoints.csv")
    samples = [s for s in samples if f"w300:{s.group}" in held_out][: args.faces]
    keypointer = FaceKeypointer("ibug68")
    framing = keypointer.model.framing
    crops = {"exact fraction": exact_fraction_crop, "halvings": crop_face}
    result["crop_ms_per_face"], result["nme"] = {}, {}
    for enlarged in (2, 3, 5):
        jobs, labels = [], []
        for sample in samples:
            image = cv2.resize(read_image(sample.image), None, fx=enlarged, fy=enlarged, interpolation=cv2.INTER_CUBIC)
            found = keypointer.detector(image)
            points = (sample.points + 0.5) * enlarged - 0.5
            if found:
                best = min(found, key=lambda d: np.linalg.norm(d.landmarks.mean(0) - points.mean(0)))
                jobs.append((image, framing_transform(best.landmarks[: framing.num_reference], framing), framing.size))
                labels.append(points)
        result["crop_ms_per_face"][f"{enlarged}x"] = median_ms(crops, jobs[:40])
        result["nme"][f"{enlarged}x"] = {name: round(nme(keypointer, crop, jobs, labels), 4) for name, crop in crops.items()}
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
