"""Wall time, GPU utilisation and validation score of whole `facepoints train` runs, and a
profile of where a training step's time goes.

    python benchmarks/train_speed.py --data fkd/training.zip --groups fkd/training_identities.csv \
        --out runs/speed --seeds 0 1 2
    python benchmarks/train_speed.py --data fkd/training.zip --groups fkd/training_identities.csv \
        --out runs/profile --profile-epochs 6

Each run is the plain CLI in its own process, alone on the GPU; `nvidia-smi` samples utilisation
every 200 ms from the process's start to its end (start-up, compiling and export included).
`--profile-epochs` instead trains that many epochs of the masked strategy in this process with
Lightning's SimpleProfiler, which times each hook of the loop, and prints its report.
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import time
from pathlib import Path


def timed_run(args, seed: int, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    log = out / "utilisation.txt"
    sampler = subprocess.Popen(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                                "-lms", "200"], stdout=open(log, "w"), stderr=subprocess.DEVNULL)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "facepoints.cli", "train", "--data", *args.data,
                           "--val-groups", args.groups, "--out", str(out / "run"), "--seed", str(seed),
                           "--no-progress", *args.extra], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    sampler.terminate()
    if proc.returncode:
        raise SystemExit(f"seed {seed}: train failed:\n{proc.stderr[-3000:]}")
    samples = [int(v) for v in log.read_text().split() if v.strip().isdigit()]
    scores = json.loads((out / "run" / "scores.json").read_text())
    return {"seed": seed, "seconds": round(seconds, 1),
            "gpu_utilisation_mean_percent": round(sum(samples) / max(1, len(samples)), 1),
            "val_rmse": round(scores["val"]["rmse"], 4), "val_nme": round(scores["val"]["nme"], 5)}


def profile(args) -> None:
    """A few epochs inside this process with Lightning's SimpleProfiler attached to the trainer."""
    import pytorch_lightning as pl
    from pytorch_lightning.profilers import SimpleProfiler

    from facepoints.data.load import load_training_set
    from facepoints.training.config import recipe
    from facepoints.training.fit import fit_module
    from facepoints.training.split import split_by_group

    out = Path(args.out)
    profiler = SimpleProfiler(dirpath=out, filename="profile")
    pl.Trainer.__init__ = functools.partialmethod(pl.Trainer.__init__, profiler=profiler)
    ks = load_training_set([Path(d) for d in args.data], Path(args.groups))
    train_set, val_set = split_by_group(ks, 0.2, 0)
    config = recipe(args.recipe, strategy="masked", epochs=args.profile_epochs, patience=args.profile_epochs)
    started = time.perf_counter()
    fit_module(config, train_set, val_set, out / "run", progress=False)
    print(json.dumps({"profile_epochs": args.profile_epochs, "seconds": round(time.perf_counter() - started, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, nargs="+")
    parser.add_argument("--groups", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--recipe", default="default")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--profile-epochs", type=int, default=0)
    parser.add_argument("extra", nargs="*", help="more `facepoints train` options, after --")
    args = parser.parse_args()
    if args.profile_epochs:
        return profile(args)
    args.extra = ["--recipe", args.recipe, *args.extra]
    results = [timed_run(args, seed, Path(args.out) / f"seed{seed}") for seed in args.seeds]
    for r in results:
        print(json.dumps(r), flush=True)
    (Path(args.out) / "speed.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
