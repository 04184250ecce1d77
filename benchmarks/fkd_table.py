"""The FKD results table: every row trained and scored on one identity-disjoint split, in one run.

    python benchmarks/fkd_table.py --data training.zip --groups training_identities.csv --out runs/table --jobs 4

Each row is a plain `facepoints train` command, run as its own process (several at once share
the GPU); the table collects each run's scores.json into table.md and table.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

STRATEGIES = ("masked", "drop", "ffill", "mean", "linear", "split")  # the default row uses pseudo
ROWS: dict[str, tuple[str, list[str]]] = {
    "mean benchmark": ("mean", ["--recipe", "mean"]),
    "seed: Nouri 3-conv, drop incomplete, flips": ("nouri", ["--recipe", "nouri"]),
    "seed: LeNet-5, 4+15 models, flips + brightness": ("lenet5", ["--recipe", "lenet5"]),
    "seed: VGG-like, forward fill": ("vgg_like", ["--recipe", "vgg_like"]),
    "seed: 12-conv LeakyReLU/BN, forward fill": ("conv12", ["--recipe", "conv12"]),
    "seed: 4-conv 64-512 + 1024-512 head, drop incomplete": ("conv4", ["--recipe", "conv4"]),
    **{f"default model, strategy {s}": (f"strategy_{s}", ["--strategy", s, "--ensemble", "1"]) for s in STRATEGIES},
    "default: integral model, pseudo-labels, full augmentation, flip TTA": ("default", []),
}


def run_row(label: str, folder: str, extra: list[str], args) -> dict:
    out = Path(args.out) / folder
    command = ["facepoints", "train", "--data", args.data, "--val-groups", args.groups, "--out", str(out),
               "--no-progress", *extra, *args.extra]
    started = time.time()
    with open(Path(args.out) / f"{folder}.log", "w") as log:  # same CLI, importable without installing
        code = subprocess.call([sys.executable, "-m", "facepoints.cli", *command[1:]], stdout=log,
                               stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "2"})
    scores = json.loads((out / "scores.json").read_text()) if code == 0 else {}
    print(f"{label}: exit {code}, {time.time() - started:.0f} s", flush=True)
    return {"row": label, "command": shlex.join(command), "exit": code, **scores}


def markdown(rows: list[dict]) -> str:
    lines = ["| row | val RMSE | RMSE without flip TTA | MAE | NME | failure (NME > 0.08) | train s | command |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        v = r.get("val")
        if not v:
            lines.append(f"| {r['row']} | failed (exit {r['exit']}) | | | | | | `{r['command']}` |")
            continue
        plain = r.get("val_without_flip_tta", {}).get("rmse")
        plain = f"{plain:.3f}" if plain is not None else "-"
        lines.append(f"| {r['row']} | {v['rmse']:.3f} | {plain} | {v['mae']:.3f} | {v['nme']:.4f} | {v['failure_rate']:.3f} | "
                     f"{r['train_seconds']} | `{r['command']}` |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--groups", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="folder names of the rows to run")
    parser.add_argument("extra", nargs="*", help="extra `facepoints train` options for every row (after --)")
    args = parser.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    chosen = [(label, folder, extra) for label, (folder, extra) in ROWS.items() if not args.only or folder in args.only]
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda row: run_row(*row, args), chosen))
    (Path(args.out) / "table.json").write_text(json.dumps(rows, indent=2))
    (Path(args.out) / "table.md").write_text(markdown(rows))
    print(markdown(rows))
    return 0 if all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
