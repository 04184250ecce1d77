"""Video filter figures on a clip with a known truth (benchmarks/moving_face.py): frames per
second end to end (decode, track, filter, encode), keypoint error, and jitter on a still face
with and without smoothing.

    python benchmarks/filter_video.py --data ../shared/data --out runs/filter_video --threads 2
    python benchmarks/filter_video.py ... --model ibug68 --model ibug68-fast   # models take turns
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from moving_face import labelled_face, make_clip  # noqa: E402


def run(clip: Path, out: Path, model: str, detect_every: int, smooth: bool, threads: int) -> tuple[float, np.ndarray]:
    """Frames per second of the whole filter run (model already loaded) and (F, 68, 2) keypoints."""
    from facepoints.commands.filter import filter_video
    from facepoints.filters import load_filter
    from facepoints.inference import FaceKeypointer

    keypointer = FaceKeypointer(model, threads=threads)
    keypointer.detector  # built before the clock starts, like the model
    started = time.perf_counter()
    filter_video(load_filter("sunglasses"), keypointer, clip, out, out.with_suffix(".json"), detect_every, smooth)
    seconds = time.perf_counter() - started
    frames = json.loads(out.with_suffix(".json").read_text())["frames"]
    points = np.array([f["faces"][0]["keypoints"] if f["faces"] else np.full((68, 2), np.nan) for f in frames])
    return len(frames) / seconds, points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", action="append", help="bundled name or model.onnx; repeat to compare (default: ibug68)")
    args = parser.parse_args()
    models = args.model or ["ibug68"]
    args.out.mkdir(parents=True, exist_ok=True)
    face, points = labelled_face(args.data)
    rows = []
    for motion in ("moving", "still"):
        clip = args.out / f"{motion}.mp4"
        truth = make_clip(face, points, clip, args.frames, static=motion == "still")
        eye_distance = np.linalg.norm(truth[:, 36] - truth[:, 45], axis=1)
        for (detect_every, smooth), model in itertools.product(((1, False), (5, False), (5, True)), models):
            name = f"{motion}_d{detect_every}_{'smooth' if smooth else 'raw'}_{Path(model).stem}.mp4"
            fps, found = run(clip, args.out / name, model, detect_every, smooth, args.threads)
            error = np.linalg.norm(found - truth, axis=2).mean(1) / eye_distance
            step = np.linalg.norm(np.diff(found, axis=0), axis=2).mean(1)
            true_step = np.linalg.norm(np.diff(truth, axis=0), axis=2).mean(1)
            rows.append({"clip": motion, "model": model, "detect_every": detect_every, "smoothing": smooth, "fps": round(fps, 1),
                         "nme": round(float(np.nanmean(error)), 4),
                         "frames_with_face": int(np.isfinite(found[:, 0, 0]).sum()),
                         "jitter_px": round(float(np.nanmean(step)), 3) if motion == "still" else None,
                         "motion_error_px": round(float(np.nanmean(np.abs(step - true_step))), 3)})
            print(json.dumps(rows[-1]), flush=True)
    meta = {"frames": args.frames, "size": "640x480", "threads": args.threads, "cpus": os.cpu_count()}
    (args.out / "filter_video.json").write_text(json.dumps({"setup": meta, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
