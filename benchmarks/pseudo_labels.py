"""Pseudo-labels at scale: a 68-point teacher labels MTFL's 10,000 faces, and its points are kept
where the 5 points they map to agree with MTFL's real labels.

    PYTHONPATH=src python benchmarks/pseudo_labels.py --data ../shared/data --teacher ibug68 \\
        --max-nme 0.06 --exclude docs/results/pose_bins/nme_mtfl_lfw.npz --exclude docs/results/pose_bins/nme_mtfl_web.npz \\
        --out .data/mtfl_pseudo

The teacher sees each 80x80 MTFL photo framed from its labelled 5 points (as from a detector's 5
points), then once more from its own points (one refinement pass, flip test on), as
FaceKeypointer does. Its 68 points are mapped to celeba5 (facepoints.schemes.convert_points: eye
centre = mean of the six eye points, nose tip 30, mouth corners 48, 54) and scored against the
labels: NME over the labelled eye-centre distance. Faces with NME <= ``--max-nme`` are kept, cropped
with the photo framing (facepoints.data.aligned.aligned_crops) and written as a packed ibug68 set
(``mtfl_pseudo68.npz``) that ``facepoints train --data`` reads. ``teacher.npz`` keeps every face's
teacher points and agreement, for benchmarks/mapping_bias.py and for choosing another threshold
without rerunning the teacher (``--reuse``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from facepoints.crop import PHOTO_FRAMING, crop_face, framing_transform, reference_points
from facepoints.data.aligned import aligned_crops
from facepoints.data.landmarks import LandmarkSample, read_mtfl_csv
from facepoints.data.packed import save_packed
from facepoints.evaluation import per_image_nme
from facepoints.imageio import read_image
from facepoints.inference import FaceKeypointer
from facepoints.schemes import CELEBA5, convert_points

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pose_bins import shifted_labels  # noqa: E402

# Agreement quantiles reported (NME of the mapped 5 points against the labels).
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


def mtfl_source(sample: LandmarkSample) -> str:
    """MTFL's parts: LFW faces (``lfw_5590_...``), web faces (``net_7876_...``), and the web faces
    whose labels are shifted (pose_bins.shifted_labels)."""
    return "lfw" if sample.name.startswith("lfw") else "web_shifted" if shifted_labels(sample) else "web"


def teacher_points(samples: list[LandmarkSample], teacher: str, scheme: str = "celeba5", threads: int = 2,
                   chunk: int = 256) -> np.ndarray:
    """(N, 68, 2) the teacher's points on each face's photo, framed from its labels' 5 points and
    then from its own points, as FaceKeypointer frames a detection (one refinement pass); faces go
    through the model in batches."""
    keypointer = FaceKeypointer(teacher, threads=threads)
    model = keypointer.model
    if model.scheme.name != "ibug68":
        raise SystemExit(f"--teacher {teacher}: gives {model.scheme.name} points, not ibug68")
    points = np.empty((len(samples), 68, 2), np.float32)
    for start in range(0, len(samples), chunk):
        part = samples[start : start + chunk]
        images = [keypointer._model_colours(read_image(s.image)) for s in part]
        references = [reference_points(s.points, s.mask, scheme, model.framing)[0] for s in part]
        for _ in range(2):
            matrices = [framing_transform(r, model.framing) for r in references]
            crops = np.stack([crop_face(i, m, model.framing.size) for i, m in zip(images, matrices)])
            found = keypointer.to_image(model.predict(crops), matrices)
            references = [reference_points(p, np.ones(68, bool), "ibug68", model.framing)[0] for p in found]
        points[start : start + chunk] = found
        print(f"  teacher: {start + len(part)}/{len(samples)}", file=sys.stderr)
    return points


def agreement(points68: np.ndarray, labels5: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The teacher's points mapped to celeba5, and each face's NME against the 5 labels."""
    five, _ = convert_points(points68, np.ones(points68.shape[:2], bool), "ibug68", "celeba5")
    return five, per_image_nme(five, labels5, np.ones(labels5.shape[:2], bool), CELEBA5)


def load_or_label(data: Path, teacher: str, cache: Path, reuse: bool) -> tuple[list[LandmarkSample], np.ndarray]:
    """MTFL's faces and the teacher's points on them (from ``cache`` with ``reuse``, else computed and cached)."""
    samples, _ = read_mtfl_csv(data / "mtfl" / "keypoints.csv")
    if reuse and cache.is_file():
        stored = np.load(cache)
        if list(stored["names"]) == [s.name for s in samples] and str(stored["teacher"]) == teacher:
            return samples, stored["points"]
        print(f"{cache}: made from other faces or another teacher; labelling again", file=sys.stderr)
    started = time.perf_counter()
    points = teacher_points(samples, teacher)
    print(f"teacher {teacher}: {len(samples)} faces in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    labels = np.stack([s.points for s in samples])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, names=np.array([s.name for s in samples]), teacher=np.array(teacher), points=points,
                        nme=agreement(points, labels)[1])
    return samples, points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--teacher", default="ibug68", help="68-point model: bundled name, model.onnx or run folder")
    parser.add_argument("--max-nme", type=float, default=0.06, help="keep faces whose mapped 5 points agree this well")
    parser.add_argument("--out", type=Path, default=Path(".data/mtfl_pseudo"))
    parser.add_argument("--exclude", type=Path, action="append", default=[],
                        help="a .npz with a names array (pose_bins.py's nme_mtfl_*.npz): faces scored there are "
                             "not packed, so a model trained on the set is scored on faces it has not seen")
    parser.add_argument("--reuse", action="store_true", help="take the teacher's points from OUT/teacher.npz if there")
    args = parser.parse_args()
    samples, points = load_or_label(args.data, args.teacher, args.out / "teacher.npz", args.reuse)
    labels = np.stack([s.points for s in samples])
    _, nme = agreement(points, labels)
    sources = np.array([mtfl_source(s) for s in samples])
    excluded = set().union(*(np.load(path)["names"].tolist() for path in args.exclude))
    kept = (nme <= args.max_nme) & ~np.isin([s.name for s in samples], list(excluded))
    summary = {"teacher": args.teacher, "max_nme": args.max_nme, "faces": len(samples), "excluded": len(excluded), "kept": int(kept.sum()),
               "by_source": {}}
    for source in ("lfw", "web", "web_shifted"):
        part = sources == source
        summary["by_source"][source] = {
            "faces": int(part.sum()), "kept": int((kept & part).sum()), "kept_share": round(float(kept[part].mean()), 4),
            "nme_mean": round(float(nme[part].mean()), 4),
            "nme_quantiles": {str(q): round(float(np.quantile(nme[part], q)), 4) for q in QUANTILES}}
    pseudo = [LandmarkSample(s.image, p, np.ones(68, bool), s.name, s.name)
              for s, p, keep in zip(samples, points, kept) if keep]
    crops, skipped = aligned_crops(pseudo, "ibug68", PHOTO_FRAMING, source=str(args.data / "mtfl" / "keypoints.csv"))
    save_packed(crops, args.out / "mtfl_pseudo68.npz")
    summary["packed"] = {"path": str(args.out / "mtfl_pseudo68.npz"), "faces": len(crops), "left_out": len(skipped)}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
