"""The loop every batch command shares: each image read and worked on, a bad one reported and
skipped, a progress bar over the lot."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from rich.progress import Progress

from facepoints.errors import DataError


def image_entry(source, path: str, work: Callable[[np.ndarray], dict]) -> tuple[dict, bool]:
    """One image's JSON entry, ``{"path", **work(rgb_image)}``, and True; or, for an unreadable
    image, ``{"path", "error", "faces": []}`` and False. Every command's rows are made here.

    source: what ``read_image`` takes (a path, or the file's bytes); path: the name to report."""
    from facepoints.imageio import read_image

    try:
        return {"path": path, **work(read_image(source, name=path))}, True
    except DataError as e:
        return {"path": path, "error": str(e), "faces": []}, False


def photo_workers(count: int) -> int:
    """Photos to work on at once for ``count`` inputs: one per core, each running the models on one
    thread, gave 1.3-1.6x the photos a second of one photo at a time on every core (2 cores,
    docs/benchmarks.md); a single photo gets every core."""
    from facepoints.runtime import available_cores  # ONNX Runtime loads with the first photo, not the CLI

    return max(1, min(available_cores(), count))


def each_image(paths: list[Path], label: str, work: Callable[[Path, np.ndarray], dict],
               workers: int = 1) -> tuple[list[dict], int]:
    """``work(path, rgb_image) -> dict`` on every image, ``workers`` at once (threads: decoding and
    the models release the GIL), a bad one reported and skipped; returns the JSON entries, in the
    inputs' order, and how many failed."""
    from rich.markup import escape

    from facepoints.cli import errors

    results, failures = [], 0
    pool = ThreadPoolExecutor(workers, thread_name_prefix="facepoints")
    try:
        with Progress(console=errors, transient=True, disable=len(paths) < 2) as progress:
            task = progress.add_task(label, total=len(paths))
            def one(path: Path) -> tuple[dict, bool]:
                return image_entry(path, str(path), lambda image: work(path, image))

            for entry, ok in _in_order(pool, one, paths, window=2 * workers):
                if not ok:
                    failures += 1
                    errors.print(f"[red]error:[/red] {escape(entry['error'])}", highlight=False, soft_wrap=True)
                results.append(entry)
                progress.advance(task)
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
