"""The 5 CelebA points derived from 68-point models, against MTFL's real 5-point labels: facepoints
beside the peers, in one run.

    python benchmarks/mtfl_five_points.py --data ../shared/data --limit 2000
    /work/venv-peers/bin/python benchmarks/mtfl_five_points.py --data ../shared/data --limit 2000 \\
        --methods facepoints,dlib,mediapipe --model ibug68 --model ibug68-fast

MTFL faces are 80x80 crops of LFW and web photos that neither facepoints nor dlib trained on
(dlib's predictor learnt 300-W), so unlike the 300-W faces this is a fair field for all methods.
Each image goes through each method as a user's photo would (its own detector, one pass). Every
method's 68 points become the 5 by the same mapping (`facepoints.schemes.convert_points`: eye
centre = mean of its six points, nose tip 30, mouth corners 48 and 54), so any bias of that
mapping against MTFL's labels is shared. NME is normalised by the labelled eye distance, the
usual measure for 5-point sets; a face is found when a method's face lies near the labels' centre.
Methods are those of photo_keypoints.py (peers need the peers' venv: benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from photo_keypoints import make_methods  # same folder; sets the thread variables before numpy loads

import numpy as np  # noqa: E402
from facepoints.data.landmarks import read_mtfl_csv  # noqa: E402
from facepoints.evaluation import FAILURE_NME, per_image_nme  # noqa: E402
from facepoints.imageio import read_image  # noqa: E402
from facepoints.schemes import CELEBA5, convert_points  # noqa: E402


def score(method, samples) -> dict:
    preds, targets = [], []
    for sample in samples:
        image = read_image(sample.image)
        centre = sample.points.mean(0)
        near = [f.points for f in method(image)
                if np.linalg.norm(f.points.mean(0) - centre) < 0.3 * image.shape[1]]
        if near:
            five, _ = convert_points(near[0], np.ones(len(near[0]), bool), method.scheme, "celeba5")
            preds.append(five)
            targets.append(sample.points)
    found = {"faces": len(samples), "found": len(preds), "found_rate": round(len(preds) / len(samples), 4)}
    if not preds:
        return found
    preds, targets = np.array(preds), np.array(targets)
    nme = per_image_nme(preds, targets, np.ones(targets.shape[:2], bool), CELEBA5)
    return {**found, "nme": round(float(np.nanmean(nme)), 4), "median_nme": round(float(np.nanmedian(nme)), 4),
            "failure_rate": round(float((nme > FAILURE_NME).mean()), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", action="append", help="facepoints model(s), as in photo_keypoints.py (default ibug68)")
    parser.add_argument("--methods", default="facepoints")
    parser.add_argument("--limit", type=int, default=2000, help="first N faces of MTFL")
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the results")
    args = parser.parse_args()
    # make_methods takes photo_keypoints.py's options: here one pass, one face per 80x80 crop.
    options = argparse.Namespace(model=args.model or ["ibug68"], detect_size=[None], flip_test=[True], detector="yunet",
                                 threshold=0.6, refine=0, spin=False, max_faces=1)
    methods, failed = make_methods(args.methods.split(","), options)
    samples, _ = read_mtfl_csv(args.data / "mtfl" / "keypoints.csv")
    samples = samples[: args.limit]
    results = {"failed": failed}
    for label, method in methods.items():
        results[label] = score(method, samples)
        print(json.dumps({"method": label, **results[label]}), file=sys.stderr)
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
