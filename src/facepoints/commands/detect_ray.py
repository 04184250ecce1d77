"""`facepoints detect-ray`: `facepoints detect` over millions of images on a Ray cluster (or all local cores)."""

from __future__ import annotations

from typing import Optional

import typer

from facepoints.commands.console import errors
from facepoints.commands.options import DETECT_SIZE, FLIP_TEST, SCHEME, THRESHOLD
from facepoints.options import KeypointerOptions


def detect_ray(
    inputs: list[str] = typer.Argument(..., help="Image folders or files: local, or URIs every node can read (s3://...)."),
    out: str = typer.Option(..., help="Folder for the result files (new or empty; a URI on a cluster without shared disk)."),
    format: str = typer.Option("parquet", help="parquet or json (JSON lines)."),
    address: Optional[str] = typer.Option(None, help="Ray cluster to join (default: RAY_ADDRESS, else a local instance)."),
    scheme: Optional[str] = SCHEME,
    model: str = typer.Option(KeypointerOptions.model, help="Bundled model name, or a model.onnx at the same path on every node."),
    threshold: float = THRESHOLD,
    detect_size: int = DETECT_SIZE,
    flip_test: bool = FLIP_TEST,
    refine: int = typer.Option(0, min=0, max=3, help="Extra passes framed from the model's own keypoints."),
    cpus_per_worker: int = typer.Option(1, min=1, help="CPUs (model threads) of each worker; the pool fills the cluster."),
):
    """Rows as in `detect --json` (one per image; "error" for unreadable ones) written as Parquet or
    JSON-lines files by Ray Data workers. Exit 0: all images read; 1: some failed."""
    from facepoints.ray_detect import FORMATS, connect, keypoint_dataset, write_rows  # needs facepoints[ray]

    if format not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")
    connect(address)
    options = KeypointerOptions(model=model, scheme=scheme, threshold=threshold, detect_size=detect_size,
                                flip_test=flip_test, refine=refine)
    dataset = keypoint_dataset(inputs, options, cpus_per_worker=cpus_per_worker)
    images, failed = write_rows(dataset, out, format)
    errors.print(f"{images} image(s) written to {out}" + (f"; {failed} failed (rows with an error)" if failed else ""))
    if failed:
        raise typer.Exit(1)
