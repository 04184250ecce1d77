"""The loop every batch of photos shares (`detect`, `filter`, Ray): inputs collected, each image read
and worked on, a bad one kept as an entry with an "error" and skipped. Nothing is printed here:
each finished entry goes to a callback, which the commands wire to their progress bar."""

from __future__ import annotations

import os
import sys
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from facepoints.errors import DataError
from facepoints.imageio import IMAGE_SUFFIXES

__all__ = ["IMAGE_SUFFIXES", "collect_inputs", "each_image", "image_entry", "overlay_names", "photo_workers"]


def collect_inputs(inputs: list[str]) -> list[Path]:
    """Files as given, folders searched recursively in sorted order, `-` for paths on stdin. A
    folder's search finds regular files only: a folder named `x.png` holds photos, and a FIFO
    would hang the run."""
    paths: list[Path] = []
    for item in inputs:
        if item == "-":
            paths += [Path(line.strip()) for line in sys.stdin if line.strip()]
        elif Path(item).is_dir():
            paths += sorted(p for p in Path(item).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        else:
            paths.append(Path(item))
    return paths


def overlay_names(paths: list[Path]) -> dict[Path, Path]:
    """Each input's overlay picture inside one folder: ``<name>.png``, or where two photos share a
    name, its path below the inputs' common folder, so that neither overwrites the other."""
    flat = {path: Path(f"{path.stem}.png") for path in paths}
    resolved = {path: path.resolve() for path in paths}
    if len(set(flat.values())) == len(set(resolved.values())):
        return flat
    try:
        root = Path(os.path.commonpath([full.parent for full in resolved.values()]))
    except ValueError:  # Windows drives share no folder: number the photos instead
        return {path: Path(f"{index}_{path.stem}.png") for index, path in enumerate(resolved)}
    return {path: full.relative_to(root).with_suffix(".png") for path, full in resolved.items()}


def image_entry(source, path: str, work: Callable[[np.ndarray], dict]) -> tuple[dict, bool]:
    """One image's JSON entry, ``{"path", **work(rgb_image)}``, and True; or, for an unreadable
    image, ``{"path", "error", "faces": []}`` and False. Every batch's rows are made here.

    source: what ``read_image`` takes (a path, or the file's bytes); path: the name to report."""
    from facepoints.imageio import read_image

    try:
        return {"path": path, **work(read_image(source, name=path))}, True
    except DataError as e:
        return {"path": path, "error": str(e), "faces": []}, False


def photo_workers(count: int) -> int:
    """Photos to work on at once for ``count`` inputs: one per core, each running the models on one
    thread, works through a folder faster than one photo at a time on every core
    (docs/benchmarks.md); a single photo gets every core."""
    from facepoints.sessions import available_cores  # ONNX Runtime loads with the first photo, not the CLI

    return max(1, min(available_cores(), count))


def each_image(paths: list[Path], work: Callable[[Path, np.ndarray], dict], workers: int = 1,
               on_entry: Callable[[dict], None] | None = None) -> tuple[list[dict], int]:
    """``work(path, rgb_image) -> dict`` on every image, ``workers`` at once (threads: decoding and
    the models release the GIL), a bad one kept as an entry with an "error" and skipped; returns the
    JSON entries, in the inputs' order, and how many failed.

    on_entry: called with each entry, in order, as it is finished (progress, errors)."""
    results, failures = [], 0
    pool = ThreadPoolExecutor(workers, thread_name_prefix="facepoints")

    def one(path: Path) -> tuple[dict, bool]:
        return image_entry(path, str(path), lambda image: work(path, image))

    try:
        for entry, ok in _in_order(pool, one, paths, window=2 * workers):
            failures += not ok
            results.append(entry)
            if on_entry is not None:
                on_entry(entry)
    finally:  # on Ctrl-C or an error, queued photos are dropped; those being worked on finish
        pool.shutdown(wait=False, cancel_futures=True)
    return results, failures


def _in_order(pool: ThreadPoolExecutor, function: Callable, items: list, window: int) -> Iterator:
    """``function(item)`` for every item on ``pool``, in the items' order, with at most
    ``window`` submitted and not yet taken: a million photos are not all queued at once."""
    pending: deque[Future] = deque()
    for item in items:
        pending.append(pool.submit(function, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
