"""Check the 5 CelebA points that the 68-point model derives, against MTFL's real 5-point labels.

    python benchmarks/mtfl_five_points.py --data ../shared/data --limit 2000

MTFL faces are 80x80 crops (LFW and web photos) that facepoints never trained on. Each image goes
through `facepoints detect` as a user's photo would (YuNet, one pass); NME is normalised by the
labelled eye distance, the usual measure for 5-point sets.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from facepoints.data.landmarks import read_mtfl_csv
from facepoints.evaluation import FAILURE_NME, per_image_nme
from facepoints.imageio import read_image
from facepoints.inference import FaceKeypointer
from facepoints.schemes import CELEBA5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", default="ibug68")
    parser.add_argument("--limit", type=int, default=2000)
    args = parser.parse_args()
    samples, _ = read_mtfl_csv(args.data / "mtfl" / "keypoints.csv")
    samples = samples[: args.limit]
    keypointer = FaceKeypointer(model=args.model, threads=2)
    preds, targets = [], []
    for sample in samples:
        image = read_image(sample.image)
        faces = keypointer(image, scheme="celeba5")
        centre = sample.points.mean(0)
        near = [f for f in faces if np.linalg.norm(f.keypoints.mean(0) - centre) < 0.3 * image.shape[1]]
        if near:
            preds.append(near[0].keypoints)
            targets.append(sample.points)
    preds, targets = np.array(preds), np.array(targets)
    nme = per_image_nme(preds, targets, np.ones(targets.shape[:2], bool), CELEBA5)
    result = {"faces": len(samples), "found": len(preds), "found_rate": round(len(preds) / len(samples), 4),
              "nme": round(float(np.nanmean(nme)), 4), "failure_rate": round(float((nme > FAILURE_NME).mean()), 4)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
