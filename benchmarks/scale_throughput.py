"""Images per second of `facepoints detect` and of the Ray Data path (`detect-ray`) over one folder.

    python benchmarks/scale_throughput.py --data ../shared/data --images 400

Copies the first N faces68 frames into a scratch folder, then times, one after the other:
`facepoints detect DIR --json` and `facepoints detect-ray DIR --out` as commands (start-up
included: Python, models, and for Ray its local instance), and the Ray pipeline alone with
Ray already running in this process (what a long job on a standing cluster sees). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_command(args: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "facepoints.cli", *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--images", type=int, default=400)
    args = parser.parse_args()

    frames = sorted((args.data / "faces68" / "images").glob("*.jpg"))[: args.images]
    work = Path(tempfile.mkdtemp(prefix="scale_throughput."))
    folder = work / "images"
    folder.mkdir()
    for frame in frames:
        shutil.copy(frame, folder / frame.name)
    n = len(frames)
    result = {"images": n, "cpu_count": os.cpu_count(), "load_average_before": os.getloadavg()}

    seconds = timed_command(["detect", str(folder), "--json", str(work / "detect.json")])
    result["detect_cli"] = {"seconds": round(seconds, 2), "images_per_second": round(n / seconds, 1)}
    seconds = timed_command(["detect-ray", str(folder), "--out", str(work / "ray_cli")])
    result["detect_ray_cli"] = {"seconds": round(seconds, 2), "images_per_second": round(n / seconds, 1)}

    from facepoints.ray_detect import connect, keypoint_dataset, write_rows

    connect()
    started = time.perf_counter()
    images, failed = write_rows(keypoint_dataset([str(folder)]), str(work / "ray_warm"))
    seconds = time.perf_counter() - started
    assert (images, failed) == (n, 0)
    result["ray_pipeline_ray_running"] = {"seconds": round(seconds, 2), "images_per_second": round(n / seconds, 1)}
    result["load_average_after"] = os.getloadavg()
    shutil.rmtree(work)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
