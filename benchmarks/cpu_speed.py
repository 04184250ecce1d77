"""CPU inference speed of an exported model with ONNX Runtime: faces per second at batch 1 and 64.

    python benchmarks/cpu_speed.py fkd15 --threads 2
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
    parser.add_argument("model", help="model.onnx, run folder or bundled name")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    model = KeypointModel(args.model, threads=args.threads)
    result = {f"batch_{b}": round(faces_per_second(model, b, args.seconds), 1) for b in (1, 64)}
    print(json.dumps({"model": str(model.path), "threads": args.threads, "faces_per_second": result}))


if __name__ == "__main__":
    main()
