"""Atomic file writes: a killed run never leaves a half-written output behind, and an output
never replaces an input.

A write goes to a hidden file beside its target and is renamed onto it when complete. Where the
target is a symlink the rename goes onto the file it names, and where it is no regular file (a
FIFO, a device, a terminal through /proc/self/fd/1) the finished text is written into it instead:
a rename would replace the device or the pipe with a plain file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Iterable

from facepoints.errors import DataError


_UMASK = os.umask(0)
os.umask(_UMASK)


def check_outputs(outputs: Iterable[str | os.PathLike | None], inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse, before any work, an output that is one of the inputs or another output, however
    named (relative, through symlinks, a hard link): a DataError naming both."""
    outputs = [Path(p) for p in outputs if p is not None]
    if not outputs:  # nothing to write: no input need be looked up
        return
    taken = {key: f"the input {path}" for path in map(Path, inputs) for key in _identities(path)}
    for path in outputs:
        keys = _identities(path)
        clash = next((taken[key] for key in keys if key in taken), None)
        if clash is not None:
            raise DataError(path, f"would replace {clash}; choose another output")
        taken.update((key, f"the output {path}") for key in keys)


def _identities(path: Path) -> list[object]:
    """The path with its symlinks resolved, and for an existing file its device and inode."""
    keys: list[object] = [path.resolve()]
    with contextlib.suppress(OSError):
        status = os.stat(path)
        keys.append((status.st_dev, status.st_ino))
    return keys


def output_folder(path: str | os.PathLike) -> Path:
    """``path`` made (with its parents) as a folder for outputs, or one line saying why it cannot be."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise DataError(path, "is a file, not a folder for outputs")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(path, f"cannot be made ({e.strerror or e})") from None
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path; when the block succeeds, rename it onto ``path`` (or onto the file
    ``path`` links to), or copy it into ``path`` where that is not a regular file."""
    path = Path(path)
    target = _rename_target(path)
    folder = target.parent if target is not None else None  # None: the system's temporary folder
    try:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as e:  # a parent that is a file, no permission, a full disk: the user's to fix
        raise DataError(path, f"cannot be written ({e.strerror or e})") from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield Path(tmp)
        if target is not None:
            os.replace(tmp, target)
        else:
            with open(tmp, "rb") as finished, open(path, "wb") as special:
                shutil.copyfileobj(finished, special)
    except OSError as e:
        raise DataError(path, f"cannot be written ({e.strerror or e})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _rename_target(path: Path) -> Path | None:
    """The path a finished output is renamed onto: ``path``, or the regular file its symlinks
    name; None where it must be written into instead (not a regular file, or reached through
    /proc, whose links name open files, not paths)."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return Path(os.path.realpath(path))  # new, or a link to a file yet to be made
    except OSError:
        return path  # the write reports it
    if not stat.S_ISREG(status.st_mode):
        return None
    hops, current = 0, Path(os.path.abspath(path))
    while current.is_symlink() and hops < 40:
        current, hops = Path(os.path.abspath(current.parent / os.readlink(current))), hops + 1
        if current.parts[1:2] == ("proc",):
            return None
    return Path(os.path.realpath(path))


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike):
    """Yield a hidden temporary folder beside ``path``; rename it onto ``path`` (which must not exist
    or be empty) only if the block succeeds, so a folder of many output files appears complete or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp makes 0700
    try:
        yield tmp
        os.replace(tmp, path)  # rename(2) replaces an empty folder
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
