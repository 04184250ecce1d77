"""The loop every batch command shares: each image read and worked on, a bad one reported and
skipped, a progress bar over the lot."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from rich.progress import Progress

from facepoints.errors import DataError


def each_image(paths: list[Path], label: str, work: Callable[[Path, np.ndarray], dict]) -> tuple[list[dict], int]:
    """``work(path, rgb_image) -> dict`` on every image; returns the JSON entries and how many failed."""
    from facepoints.cli import errors
    from facepoints.imageio import read_image

    results, failures = [], 0
    with Progress(console=errors, transient=True, disable=len(paths) < 2) as progress:
        task = progress.add_task(label, total=len(paths))
        for path in paths:
            entry: dict = {"path": str(path)}
            try:
                entry.update(work(path, read_image(path)))
            except DataError as e:  # a bad input: report it and go on
                entry.update(error=str(e), faces=[])
                failures += 1
                errors.print(f"[red]error:[/red] {e}", highlight=False, soft_wrap=True)
            results.append(entry)
            progress.advance(task)
    return results, failures
