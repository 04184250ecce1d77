"""Are the faster bundled photo models faster on this CPU? ibug68-fast against ibug68, and
ibug68-tiny against ibug68-fast, per face (the face and its mirror), taking turns.

    python benchmarks/model_tiers_speed.py --threads 2

Prints the median seconds per call of each model and the two ratios as JSON; exits 1 when a ratio
falls below its bound (--fast-over-default, --tiny-over-fast). A timing check, so not a test: on a
loaded machine the ratios move (docs/benchmarks.md gives measured ones).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from facepoints.runtime import KeypointModel

MODELS = ("ibug68", "ibug68-fast", "ibug68-tiny")


def median_call_seconds(models: dict[str, KeypointModel], rounds: int, calls: int) -> dict[str, float]:
    """Median over ``rounds`` of ``calls`` predictions of one random crop, the models taking turns."""
    rng = np.random.default_rng(0)
    crops = {name: rng.integers(0, 256, (1, *model.image_size, 3), dtype=np.uint8) for name, model in models.items()}
    for name, model in models.items():
        model.predict(crops[name])  # warm-up
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            started = time.perf_counter()
            for _ in range(calls):
                model.predict(crops[name])
            times[name].append((time.perf_counter() - started) / calls)
    return {name: float(np.median(seconds)) for name, seconds in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=5, help="predictions per model and round")
    parser.add_argument("--fast-over-default", type=float, default=1.5, help="least ibug68 / ibug68-fast time ratio")
    parser.add_argument("--tiny-over-fast", type=float, default=1.2, help="least ibug68-fast / ibug68-tiny time ratio")
    args = parser.parse_args()
    models = {name: KeypointModel(name, threads=args.threads) for name in MODELS}
    seconds = median_call_seconds(models, args.rounds, args.calls)
    ratios = {"ibug68 / ibug68-fast": seconds["ibug68"] / seconds["ibug68-fast"],
              "ibug68-fast / ibug68-tiny": seconds["ibug68-fast"] / seconds["ibug68-tiny"]}
    print(json.dumps({"ms_per_face": {k: round(v * 1000, 3) for k, v in seconds.items()},
                      "ratios": {k: round(v, 2) for k, v in ratios.items()}}))
    bounds = {"ibug68 / ibug68-fast": args.fast_over_default, "ibug68-fast / ibug68-tiny": args.tiny_over_fast}
    slow = [f"{k} = {ratios[k]:.2f} < {bound}" for k, bound in bounds.items() if ratios[k] < bound]
    if slow:
        print("slower than expected: " + "; ".join(slow), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
