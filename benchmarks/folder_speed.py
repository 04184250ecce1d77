"""Photos a second for `detect` on a folder: one photo at a time on every core (the models on
all threads) against one photo per core (each on one thread), the way batch commands now run.

    python benchmarks/folder_speed.py --data ../shared/data --model ibug68 --model ibug68-fast

Both ways run the same keypointer code (facepoints.batch.each_image) on the 185 AFW photos, reading
and decoding included, and take turns for --rounds rounds; each figure is the median round.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from facepoints.batch import each_image
from facepoints.inference import FaceKeypointer, image_json
from facepoints.sessions import available_cores


def seconds_per_folder(keypointer: FaceKeypointer, paths: list[Path], workers: int) -> float:
    started = time.perf_counter()
    _, failed = each_image(paths, lambda path, image: image_json(image, keypointer(image)), workers)
    assert not failed
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", action="append")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    paths = sorted((args.data / "w300/photos/images").iterdir())
    cores = available_cores()
    ways = {}
    for model in args.model or ["ibug68"]:
        ways[f"{model}, 1 photo at a time, {cores} threads"] = (FaceKeypointer(model), 1)
        ways[f"{model}, {cores} photos at a time, 1 thread each"] = (FaceKeypointer(model, threads=1), cores)
    times = {label: [] for label in ways}
    for keypointer, _ in ways.values():
        keypointer(np.zeros((480, 640, 3), np.uint8))  # warm-up
    for _ in range(args.rounds):
        for label, (keypointer, workers) in ways.items():
            times[label].append(seconds_per_folder(keypointer, paths, workers))
    result = {label: {"ms_per_photo": round(1000 * float(np.median(t)) / len(paths), 1),
                      "photos_per_second": round(len(paths) / float(np.median(t)), 1)} for label, t in times.items()}
    print(json.dumps({"photos": len(paths), "cores": cores, "results": result}, indent=1))


if __name__ == "__main__":
    main()
