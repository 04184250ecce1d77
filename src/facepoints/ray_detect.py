"""`facepoints detect` on Ray Data, for folders too large for one machine.

Workers read the encoded files (local folders, or s3://, gs://, hdfs:// ... through pyarrow),
so only compressed bytes travel; each actor holds one FaceKeypointer, loaded once, and turns a
batch of files into the rows `facepoints detect` writes, through the same `image_entry`
(same decoding, EXIF and size checks, same rounding). Rows go to Parquet or JSON-lines files
written by the workers in parallel. An unreadable image is a row with an "error", never a
failed job.
"""

from __future__ import annotations

import logging
import os
import socket
from contextlib import contextmanager
from typing import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import ray
import ray.data

from facepoints.batch import IMAGE_SUFFIXES, image_entry
from facepoints.errors import FacepointsError
from facepoints.fileio import atomic_folder
from facepoints.inference import FaceKeypointer, image_json
from facepoints.options import KeypointerOptions, keypointer_options

FORMATS = ("parquet", "json")
ROWS_PER_FILE = 10_000  # a few large files, not one per batch

# detect's JSON entry as a fixed Arrow schema: every block, even one of broken files only,
# has the same columns and types, so the files concatenate into one table.
FACE_TYPE = pa.struct([
    ("box", pa.list_(pa.float64())),
    ("score", pa.float64()),
    ("scheme", pa.string()),
    ("keypoints", pa.list_(pa.list_(pa.float64()))),
    ("names", pa.list_(pa.string())),
])
ROW_SCHEMA = pa.schema([
    ("path", pa.string()),
    ("width", pa.int32()),
    ("height", pa.int32()),
    ("faces", pa.list_(FACE_TYPE)),
    ("error", pa.string()),
])


class KeypointBatches:
    """Ray Data callable class: a batch of encoded files (columns bytes, path) -> detect's rows."""

    def __init__(self, options: KeypointerOptions):
        self.keypointer = FaceKeypointer(options=options)

    def _keypoints(self, image: np.ndarray) -> dict:
        return image_json(image, self.keypointer(image))

    def __call__(self, batch: dict[str, np.ndarray]) -> pa.Table:
        rows = [image_entry(data, str(path), self._keypoints)[0] for data, path in zip(batch["bytes"], batch["path"])]
        return pa.Table.from_pylist(rows, schema=ROW_SCHEMA)


def connect(address: str | None = None) -> None:
    """Join the Ray cluster at ``address`` (or RAY_ADDRESS), else start a local instance; reuse
    one this process already joined. Ray's usage statistics stay off: nothing leaves the cluster."""
    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    quiet = _quiet_ray()
    if address or os.environ.get("RAY_ADDRESS"):
        target = address or os.environ["RAY_ADDRESS"]
        _reachable(target)
        try:
            with _start_up_line_hidden(quiet):
                ray.init(address=address, **quiet)
        except (ConnectionError, ValueError) as e:  # no cluster there, or a malformed address
            raise FacepointsError(f"Ray cluster {target!r}: cannot connect ({e})") from None
    else:  # "local": a new instance, never one some other user started on this machine
        with _start_up_line_hidden(quiet):
            ray.init(address="local", include_dashboard=False, **quiet)


def _quiet_ray() -> dict:
    """Ray's own messages off (its logs stay in the session's log folder), and the keyword
    arguments of ``ray.init`` that say so: the command reports what it did in one line.
    RAY_LOGGING_LEVEL (e.g. INFO) brings them back."""
    level = os.environ.get("RAY_LOGGING_LEVEL", "ERROR").upper()
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal" if level == "ERROR" else level.lower())  # its C++ lines
    logging.getLogger("ray").setLevel(level)
    for handler in logging.getLogger("ray.data").handlers:  # Ray Data's file log keeps everything
        if not isinstance(handler, logging.FileHandler) and type(handler).__name__ != "SessionFileHandler":
            handler.setLevel(level)
    ray.data.DataContext.get_current().enable_progress_bars = False
    return {"logging_level": level, "log_to_driver": False}


@contextmanager
def _start_up_line_hidden(quiet: dict) -> Iterator[None]:
    """Ray's core worker starts by writing the log level it was given straight to file descriptor
    2: hide that while Ray starts (failures still raise, and are reported as one line)."""
    if quiet["logging_level"] != "ERROR":
        yield
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _reachable(address: str, seconds: float = 5.0) -> None:
    """Fail in seconds, not minutes, when nothing listens at a host:port address (Ray itself
    waits a long while for a head node that is not there)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and other forms: Ray's own
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as e:
        raise FacepointsError(f"Ray cluster {address!r}: nothing answers there ({e.strerror or e})") from None


def keypoint_dataset(inputs: list[str], options: KeypointerOptions | None = None, *, cpus_per_worker: int = 1,
                     batch_size: int = 16, **settings):
    """A lazy ``ray.data.Dataset`` of detect's rows (ROW_SCHEMA) for every image under ``inputs``.

    inputs: files or folders (searched recursively; names starting with . or _ are skipped),
    local or any URI pyarrow reads. ``options`` (or its fields as keywords, as FaceKeypointer takes
    them) say how each actor finds faces; each actor runs the models on ``cpus_per_worker``
    threads, and the pool starts with as many actors as the cluster's CPUs hold."""
    options = keypointer_options(options, **settings, threads=cpus_per_worker)
    FaceKeypointer(options=options, threads=1)  # a bad model, scheme or flip test fails here, not in a worker
    for item in inputs:
        if not _is_uri(item) and not Path(item).exists():
            raise FacepointsError(f"{item}: not found")
    try:  # reading bytes is I/O: no CPU reserved, so actors holding every CPU never starve the reads
        files = ray.data.read_binary_files(inputs, include_paths=True, num_cpus=0,
                                           file_extensions=sorted(s.lstrip(".") for s in IMAGE_SUFFIXES))
    except ValueError as e:  # Ray's listing found nothing to read
        raise FacepointsError(f"{', '.join(inputs)}: no images to read ({e})") from None
    workers = max(1, int(ray.cluster_resources().get("CPU", 1)) // cpus_per_worker)
    return files.map_batches(
        KeypointBatches,
        fn_constructor_kwargs=dict(options=options),
        batch_size=batch_size,
        batch_format="numpy",
        num_cpus=cpus_per_worker,
        # every worker the cluster holds now starts at once; the pool follows an autoscaling cluster
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=None, initial_size=workers),
    )


def write_rows(dataset, out: str, format: str = "parquet") -> tuple[int, int]:
    """Write the rows as ``format`` files into the folder ``out``; return (images, failed).

    A local ``out`` appears only when complete: the files are written into a hidden folder beside
    it and renamed onto it. ``out`` must not hold files already (runs never mix)."""
    if format not in FORMATS:
        raise FacepointsError(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")
    writer = dataset.write_parquet if format == "parquet" else dataset.write_json

    def write(folder: str) -> None:  # like the reads, writes reserve no CPU: the actors hold them all
        writer(folder, min_rows_per_file=ROWS_PER_FILE, ray_remote_args={"num_cpus": 0})

    if _is_uri(out):  # object stores have no rename: the files land as they are written
        write(out)
        return count_failures(out, format)
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FacepointsError(f"{target}: already exists and is not an empty folder; choose a new --out")
    with atomic_folder(target) as staging:
        write(str(staging))
        counts = count_failures(str(staging), format)
    return counts


def count_failures(out: str, format: str) -> tuple[int, int]:
    """(rows, rows with an error) of written output, reading only the error column."""
    import pyarrow.dataset as pds

    errors = pds.dataset(out, format=format, schema=ROW_SCHEMA).to_table(columns=["error"])["error"]
    return len(errors), len(errors) - errors.null_count


def _is_uri(path: str) -> bool:
    return "://" in str(path)
