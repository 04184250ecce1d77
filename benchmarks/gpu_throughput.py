"""Training throughput of the default FKD model on one GPU, with the GPU's utilisation sampled.

    python benchmarks/gpu_throughput.py --data fkd/training.zip --out runs/throughput --epochs 20

Trains the default recipe at a few batch sizes, with the training step eager and compiled (no
validation split, so every epoch is training), reads images per second from each run's
metrics.csv (augmentation on the GPU included; each stage's first two epochs, which compile
and autotune, left out), and samples `nvidia-smi` utilisation every 200 ms while each run
trains (reported over the latter half of the samples in which the GPU had work).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path


def sample_utilisation(log: Path) -> subprocess.Popen:
    return subprocess.Popen(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", "-lms", "200"],
                            stdout=open(log, "w"), stderr=subprocess.DEVNULL)


def measure(run: Path) -> dict:
    """Steady-state images/s and GPU utilisation while training, from the run's logs."""
    steady = []
    for metrics in sorted(run.rglob("metrics.csv")):  # one per training stage (pseudo-labels: two)
        rates = [float(r["images_per_second"]) for r in csv.DictReader(open(metrics)) if r.get("images_per_second")]
        steady += rates[2:]  # a stage's first epochs include compiling, cuDNN autotuning and warm-up
    steady.sort()
    # Utilisation while the GPU had work (start-up and export read 0), latter half: past warm-up.
    samples = [int(v) for v in (run / "utilisation.txt").read_text().split() if v.strip().isdigit()]
    working = [v for v in samples if v > 0] or [0]
    busy = working[len(working) // 2:]
    return {"images_per_second_median": round(steady[len(steady) // 2]),
            "gpu_utilisation_median_percent": sorted(busy)[len(busy) // 2],
            "gpu_utilisation_mean_percent": round(sum(busy) / len(busy), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--steps", nargs="+", choices=["eager", "compiled"], default=["eager", "compiled"])
    args = parser.parse_args()
    results = []
    for step in args.steps:
        for batch in args.batch_sizes:
            out = Path(args.out) / f"{step}_batch{batch}"
            out.mkdir(parents=True, exist_ok=True)
            sampler = sample_utilisation(out / "utilisation.txt")
            subprocess.run([sys.executable, "-m", "facepoints.cli", "train", "--data", args.data, "--out", str(out),
                            "--val-fraction", "0", "--epochs", str(args.epochs), "--batch-size", str(batch),
                            "--compile" if step == "compiled" else "--no-compile", "--no-progress"],
                           check=True, capture_output=True)
            sampler.terminate()
            results.append({"step": step, "batch_size": batch, **measure(out)})
            print(json.dumps(results[-1]), flush=True)
    (Path(args.out) / "throughput.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
