"""Two source trees of facepoints side by side: ms per photo (one ``FaceKeypointer`` call, decoded
RGB in) on the example photo and on AFW photos, and NME on labelled 300-W photo faces.

    python benchmarks/versions_speed.py --src /tmp/old/src --src src --data ../shared/data [--model ibug68-tiny]

Each tree runs in its own process (``PYTHONPATH``); they take turns, round after round, so load
from other processes falls on both alike; a photo's time is its best over the rounds' repeats.
NME: each labelled face against the found face whose points' centroid lies in its landmark box,
normalised by the outer eye corners (36-45); a face with none is counted as missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def measure(data: Path, model: str, photos: int, faces: int, repeats: int) -> dict:
    """In the child: best ms per photo for this process's facepoints, and NME."""
    import csv

    import numpy as np

    from facepoints.commands.detect import example_photo
    from facepoints.imageio import read_image
    from facepoints.inference import FaceKeypointer

    keypointer = FaceKeypointer(model, threads=2)
    sets = {"example": [read_image(example_photo())],
            "afw": [read_image(p) for p in sorted((data / "w300/photos/images").glob("afw_*"))[:photos]]}
    ms = {}
    for name, images in sets.items():
        best = []
        for image in images:
            keypointer(image)
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                keypointer(image)
                times.append(time.perf_counter() - started)
            best.append(min(times))
        ms[name] = [1000 * t for t in best]
    with open(data / "w300/photos/keypoints.csv") as stream:
        rows = list(csv.DictReader(stream))[:faces]
    errors, missed, found = [], 0, {}
    for row in rows:
        labels = np.array([[float(row[f"x{i}"]), float(row[f"y{i}"])] for i in range(68)])
        if row["image"] not in found:
            found[row["image"]] = keypointer(read_image(data / "w300/photos/images" / row["image"]))
        (x0, y0), (x1, y1) = labels.min(0), labels.max(0)
        inside = [f for f in found[row["image"]] if x0 <= f.keypoints.mean(0)[0] <= x1 and y0 <= f.keypoints.mean(0)[1] <= y1]
        if not inside:
            missed += 1
            continue
        face = min(inside, key=lambda f: np.linalg.norm(f.keypoints.mean(0) - labels.mean(0)))
        errors.append(np.linalg.norm(face.keypoints - labels, axis=1).mean() / np.linalg.norm(labels[45] - labels[36]))
    return {"ms": ms, "nme": float(np.mean(errors)), "faces": len(errors), "missed": missed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", action="append", type=Path, default=[], help="a tree's src folder (twice or more)")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", default="ibug68", help="a bundled model")
    parser.add_argument("--photos", type=int, default=20, help="AFW photos timed")
    parser.add_argument("--faces", type=int, default=100, help="labelled faces scored")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.data, args.model, args.photos, args.faces, args.repeats)))
        return
    results: dict[str, list[dict]] = {str(src): [] for src in args.src}
    for _ in range(args.rounds):
        for src in args.src:
            env = {**os.environ, "PYTHONPATH": str(src.resolve()), "OMP_NUM_THREADS": "2"}
            command = [sys.executable, __file__, "--child", "--data", str(args.data), "--model", args.model, "--photos", str(args.photos),
                       "--faces", str(args.faces), "--repeats", str(args.repeats)]
            out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
            results[str(src)].append(json.loads(out.strip().splitlines()[-1]))
    print("| tree | example ms | AFW ms per photo (mean) | NME (faces found, missed) |")
    print("|---|---|---|---|")
    for src, rounds in results.items():
        best = {name: [min(r["ms"][name][i] for r in rounds) for i in range(len(rounds[0]["ms"][name]))]
                for name in rounds[0]["ms"]}
        last = rounds[-1]
        print(f"| {src} | {best['example'][0]:.1f} | {sum(best['afw']) / len(best['afw']):.1f} | "
              f"{last['nme']:.5f} ({last['faces']}, {last['missed']}) |")


if __name__ == "__main__":
    main()
