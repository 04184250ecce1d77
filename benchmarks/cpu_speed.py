"""CPU inference speed of exported models with ONNX Runtime: faces per second at batch 1 and 64.

    python benchmarks/cpu_speed.py fkd15 --threads 2
    python benchmarks/cpu_speed.py ibug68 runs/w24/model_int8.onnx --threads 2   # a ratio, same run

Several models take turns in --rounds rounds, and each figure is the median of its rounds, so a
machine whose speed drifts (shared cores) slows all of them alike.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from facepoints.runtime import KeypointModel


def faces_per_second(model: KeypointModel, batch: int, seconds: float) -> float:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (batch, *model.image_size, model.channels), dtype=np.uint8)
    model.predict(images, batch_size=batch)  # warm-up
    runs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        model.predict(images, batch_size=batch)
        runs += 1
    return runs * batch / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="+", help="model.onnx files, run folders or bundled names")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0, help="per model and batch size, over all rounds")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    models = {name: KeypointModel(name, threads=args.threads) for name in args.models}
    rates: dict[str, dict[int, list[float]]] = {name: {1: [], 64: []} for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            for batch in (1, 64):
                rates[name][batch].append(faces_per_second(model, batch, args.seconds / args.rounds))
    for name, model in models.items():
        result = {f"batch_{b}": round(float(np.median(r)), 1) for b, r in rates[name].items()}
        print(json.dumps({"model": str(model.path), "threads": args.threads, "faces_per_second": result}))


if __name__ == "__main__":
    main()
