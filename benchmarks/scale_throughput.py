"""Images per second of `facepoints detect` and of the Ray Data path (`detect-ray`) over one folder.

    python benchmarks/scale_throughput.py --data ../shared/data --images 1000

Copies the first N faces68 frames into a scratch folder, then times, one after the other:
`facepoints detect DIR --json` and `facepoints detect-ray DIR --out` as commands (start-up
included: Python, models, and for Ray its local instance), the Ray pipeline alone with Ray
already running in this process (actor start-up and model loading still included), and
`detect` again: the cores are shared, and a slower second `detect` shows load that came
meanwhile. Prints JSON: images per second, CPU milliseconds per image where they can be counted
(the `detect` process; Ray's read, keypoint and write operators), load averages before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_command(args: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, all threads) of one facepoints command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "facepoints.cli", *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def operator_cpu_seconds(summary) -> dict[str, float]:
    """CPU seconds of each Ray Data operator (its tasks or actors), from the dataset's stats."""
    seconds = {op.operator_name: op.cpu_time.sum for op in summary.operators_stats if op.cpu_time}
    for parent in summary.parents:
        seconds.update(operator_cpu_seconds(parent))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--images", type=int, default=1000)
    args = parser.parse_args()

    frames = sorted((args.data / "faces68" / "images").glob("*.jpg"))[: args.images]
    work = Path(tempfile.mkdtemp(prefix="scale_throughput."))
    folder = work / "images"
    folder.mkdir()
    for frame in frames:
        shutil.copy(frame, folder / frame.name)
    n = len(frames)
    result = {"images": n, "cpu_count": os.cpu_count(), "load_average_before": os.getloadavg()}

    def record(name: str, seconds: float, cpu_seconds: float | None = None) -> None:
        result[name] = {"seconds": round(seconds, 2), "images_per_second": round(n / seconds, 1)}
        if cpu_seconds is not None:
            result[name]["cpu_ms_per_image"] = round(1000 * cpu_seconds / n, 1)

    record("detect_cli", *timed_command(["detect", str(folder), "--json", str(work / "detect.json")]))
    # Ray's processes are not this one's children: CPU time is not counted for the command
    record("detect_ray_cli", timed_command(["detect-ray", str(folder), "--out", str(work / "ray_cli")])[0])

    from facepoints.ray_detect import connect, keypoint_dataset, write_rows

    connect()
    started = time.perf_counter()
    dataset = keypoint_dataset([str(folder)])
    assert write_rows(dataset, str(work / "ray_warm")) == (n, 0)
    seconds = time.perf_counter() - started
    # CPU of the read, keypoint-actor and write operators (Ray's own daemons not included)
    record("ray_pipeline_ray_running", seconds, sum(operator_cpu_seconds(dataset.get_stats_summary()).values()))
    # detect once more: if other work took the cores meanwhile, this one slows down too
    record("detect_cli_again", *timed_command(["detect", str(folder), "--json", str(work / "detect_again.json")]))
    result["load_average_after"] = os.getloadavg()
    shutil.rmtree(work)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
