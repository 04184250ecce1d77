"""The loop every batch command shares: each image read and worked on, a bad one reported and
skipped, a progress bar over the lot."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

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


def each_image(paths: list[Path], label: str, work: Callable[[Path, np.ndarray], dict]) -> tuple[list[dict], int]:
    """``work(path, rgb_image) -> dict`` on every image, a bad one reported and skipped; returns
    the JSON entries and how many failed."""
    from rich.markup import escape

    from facepoints.cli import errors

    results, failures = [], 0
    with Progress(console=errors, transient=True, disable=len(paths) < 2) as progress:
        task = progress.add_task(label, total=len(paths))
        for path in paths:
            entry, ok = image_entry(path, str(path), lambda image: work(path, image))
            if not ok:
                failures += 1
                errors.print(f"[red]error:[/red] {escape(entry['error'])}", highlight=False, soft_wrap=True)
            results.append(entry)
            progress.advance(task)
    return results, failures
