"""Found rate, NME and failure rate per pose bin: facepoints' models beside dlib and MediaPipe, in one run.

    PYTHONPATH=src /tmp/peers/bin/python benchmarks/pose_bins.py --data ../shared/data \\
        --split docs/results/photo68/split.json --model ibug68 --model ibug68-fast --model ibug68-tiny \\
        --methods facepoints,dlib,mediapipe --per-bin 120 --out docs/results/pose_bins

Sets: faces68 and 300-W faces held out by ``--split`` (identities, source photos), MTFL's LFW part
and its web part (less the faces whose labels are shifted: shifted_labels). Each face's yaw comes from its labels (facepoints.pose.label_yaw: the nose tip's
offset from the eye midpoint along the eye line) and puts it in a bin of facepoints.pose.POSE_BINS.
Large-pose faces are few, so each set is sampled per bin: ``--per-bin`` faces drawn at random
(seeded) from each bin, and every large-pose face up to ``--max-large``. Within a bin the faces
are a random draw, so a bin's scores stand for the whole bin; a set's overall mean would not, and
is not given.

Each method sees the whole image as a user's photo (its own detector, one pass). The 68-point
sets are scored on ibug68 (NME over the outer eye corners 36-45); MTFL on its 5 points, every
method's 68 points mapped to celeba5 (facepoints.schemes.convert_points), NME over the labelled
eye-centre distance. A face is found when a method gives a face whose points (in the set's
scheme) have their centroid inside the labels' box (photo_keypoints.match_face). Failure = NME >
FAILURE_NME, among the faces found. Peers need the peers' venv (benchmarks/README.md), which also
runs facepoints.
"""

from __future__ import annotations

from photo_keypoints import load_faces, make_methods, match_face, to_scheme  # same folder; sets thread variables

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from detectors import versions  # noqa: E402
from facepoints.data.landmarks import LandmarkSample, read_mtfl_csv  # noqa: E402
from facepoints.evaluation import FAILURE_NME, NORMALISING_PAIRS, ced_curve, per_image_nme  # noqa: E402
from facepoints.imageio import read_image  # noqa: E402
from facepoints.plots import ced_plot  # noqa: E402
from facepoints.pose import POSE_BINS, label_yaw, pose_bin  # noqa: E402
from facepoints.schemes import get_scheme  # noqa: E402

BIN_NAMES = [name for name, _, _ in POSE_BINS]


def shifted_labels(sample: LandmarkSample) -> bool:
    """MTFL's web faces named ``net_7876__<angle>_...`` (2,350 of them) carry labels that sit well
    above the face (docs/benchmarks.md, issue #21 mapping bias): scoring them would score the labels."""
    return sample.name.startswith("net_7876__")


def load_sets(data: Path, split: Path) -> dict[str, tuple[list[LandmarkSample], str]]:
    """Set label -> (faces, scheme): held-out faces68 and 300-W faces, MTFL's LFW and web parts."""
    held_out = load_faces(data, split)
    mtfl = [s for s in read_mtfl_csv(data / "mtfl" / "keypoints.csv")[0] if not shifted_labels(s)]
    return {"faces68": (held_out["faces68"], "ibug68"), "w300": (held_out["w300"], "ibug68"),
            "mtfl_lfw": ([s for s in mtfl if s.name.startswith("lfw")], "celeba5"),
            "mtfl_web": ([s for s in mtfl if not s.name.startswith("lfw")], "celeba5")}


def sample_by_bin(samples: list[LandmarkSample], scheme: str, per_bin: int, max_large: int,
                  seed: int) -> tuple[list[LandmarkSample], np.ndarray, dict]:
    """The faces to score, each one's bin, and each bin's size in the whole set."""
    points, mask = np.stack([s.points for s in samples]), np.stack([s.mask for s in samples])
    bins = pose_bin(label_yaw(points, mask, scheme))
    rng = np.random.default_rng(seed)
    chosen = []
    for index, name in enumerate(BIN_NAMES):
        members = np.flatnonzero(bins == index)
        limit = max_large if name == "large" else per_bin
        chosen += sorted(rng.choice(members, min(limit, len(members)), replace=False).tolist())
    sizes = {name: int((bins == index).sum()) for index, name in enumerate(BIN_NAMES)}
    return [samples[i] for i in chosen], bins[chosen], sizes


def score_set(methods: dict, samples: list[LandmarkSample], scheme: str, label: str) -> dict[str, np.ndarray]:
    """Per method, each face's NME (NaN where not found); every method on every image in turn."""
    nme = {name: np.full(len(samples), np.nan) for name in methods}
    target_scheme = get_scheme(scheme)
    for i, sample in enumerate(samples):
        image = read_image(sample.image)
        target = sample.points[None]
        for name, method in methods.items():
            found = [type(f)(to_scheme(f.points, method.scheme, scheme), f.box) for f in method(image)]
            m = match_face(found, sample.points, scheme)
            if m >= 0:
                nme[name][i] = per_image_nme(found[m].points[None], target, sample.mask[None], target_scheme)[0]
        if (i + 1) % 100 == 0:
            print(f"  {label}: {i + 1}/{len(samples)}", file=sys.stderr)
    return nme


def summarise(nme: np.ndarray) -> dict:
    found = np.isfinite(nme)
    values = nme[found]
    return {"faces": int(len(nme)), "found": int(found.sum()), "found_rate": float(found.mean()) if len(nme) else None,
            "nme": float(values.mean()) if values.size else None,
            "failure_rate": float((values > FAILURE_NME).mean()) if values.size else None}


def markdown(results: dict) -> str:
    lines = [f"Failure = NME > {FAILURE_NME} among faces found. Faces per bin: scored (of the whole set's bin).", ""]
    for label, result in results["sets"].items():
        a, b = NORMALISING_PAIRS[result["scheme"]]
        lines += [f"### {label} ({result['scheme']}, NME over points {a}-{b} of the labels)", "",
                  "| method | " + " | ".join(f"{n} ({result['scored'][n]} of {result['bin_sizes'][n]}): found / NME / failure"
                                             for n in BIN_NAMES) + " |",
                  "|---" * (len(BIN_NAMES) + 1) + "|"]
        for name, rows in result["rows"].items():
            cells = []
            for n in BIN_NAMES:
                row = rows[n]
                cells.append("-" if not row["faces"] else f"{row['found_rate']:.3f} / " + (
                    f"{row['nme']:.4f} / {row['failure_rate']:.3f}" if row["nme"] is not None else "- / -"))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    if results["failed"]:
        lines += ["Not run: " + "; ".join(f"{k}: {v}" for k, v in results["failed"].items()), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--split", type=Path, default=Path("docs/results/photo68/split.json"),
                        help="split.json of the models' run: faces68 and 300-W faces of its val_groups")
    parser.add_argument("--model", action="append", help="facepoints model(s) (default ibug68); repeatable")
    parser.add_argument("--methods", default="facepoints,dlib,mediapipe")
    parser.add_argument("--sets", default="faces68,w300,mtfl_lfw,mtfl_web")
    parser.add_argument("--per-bin", type=int, default=150, help="faces drawn from each of the frontal and moderate bins")
    parser.add_argument("--max-large", type=int, default=300, help="large-pose faces scored at most (all, if fewer)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threshold", type=float, default=0.6, help="facepoints' detector score threshold")
    parser.add_argument("--refine", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("runs/pose_bins"))
    args = parser.parse_args()
    options = argparse.Namespace(model=args.model or ["ibug68"], detect_size=[None], flip_test=[True], detector="yunet",
                                 threshold=args.threshold, refine=args.refine, spin=False, max_faces=1)
    methods, failed = make_methods(args.methods.split(","), options)
    sets = load_sets(args.data, args.split)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {"versions": versions(), "model": options.model, "split": str(args.split), "per_bin": args.per_bin,
               "max_large": args.max_large, "seed": args.seed, "threshold": args.threshold, "refine": args.refine,
               "bins": {name: [low, high] for name, low, high in POSE_BINS}, "failed": failed, "sets": {}}
    started = time.perf_counter()
    for label in args.sets.split(","):
        everything, scheme = sets[label]
        samples, bins, sizes = sample_by_bin(everything, scheme, args.per_bin, args.max_large, args.seed)
        print(f"{label}: {len(samples)} faces of {len(everything)}", file=sys.stderr)
        nme = score_set(methods, samples, scheme, label)
        rows = {name: {n: summarise(values[bins == i]) for i, n in enumerate(BIN_NAMES)} for name, values in nme.items()}
        results["sets"][label] = {"scheme": scheme, "bin_sizes": sizes,
                                  "scored": {n: int((bins == i).sum()) for i, n in enumerate(BIN_NAMES)}, "rows": rows}
        for i, n in enumerate(BIN_NAMES):
            if (bins == i).any():
                ced_plot({name: ced_curve(values[bins == i]) for name, values in nme.items()},
                         args.out / f"ced_{label}_{n}.png")
        np.savez_compressed(args.out / f"nme_{label}.npz", names=np.array([s.name for s in samples]), bins=bins,
                            **{f"nme_{k}": v for k, v in nme.items()})
    results["seconds"] = round(time.perf_counter() - started, 1)
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    table = markdown(results)
    (args.out / "table.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
