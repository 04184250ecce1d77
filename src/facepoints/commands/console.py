"""What every command prints through: results on stdout, messages and progress on stderr, and a
user error as one line with an exit code, never a traceback."""

from __future__ import annotations

import functools
import os
import re
from contextlib import contextmanager
from typing import Callable, Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from facepoints.errors import FacepointsError, OptionError

console = Console()
errors = Console(stderr=True)
# Control characters (in a file name, say) would reach the terminal as escape sequences.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shown(text: str) -> str:
    """``text`` fit for the terminal: control characters written as escapes, markup escaped."""
    return escape(_CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text))

# Optional dependencies, by the name Python imports, and the extra of facepoints that installs each.
EXTRAS = {
    "torch": "train", "pytorch_lightning": "train", "lightning": "train", "safetensors": "train", "onnx": "train",
    "onnxscript": "train", "torchmetrics": "train",
    "fastapi": "serve", "uvicorn": "serve", "multipart": "serve", "python_multipart": "serve", "fastapi_offline": "serve",
    "ray": "ray", "pyarrow": "ray",
    "av": "video", "cv2": "video", "matplotlib": "plots",
}


def missing_module(name: str) -> str:
    """The one line for an optional dependency that is not installed, naming the extra to install."""
    top = name.split(".")[0]
    extra = EXTRAS.get(top)
    fix = f"install facepoints[{extra}]" if extra else f"install {top}"
    return f"{top} is not installed; {fix} for this command"


def user_errors(command):
    """Turn a FacepointsError (or a missing optional dependency) into one line and exit code 1
    (2 for an OptionError, a usage error)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter):  # the command's own exit codes and usage errors
            raise
        except FacepointsError as e:
            errors.print(f"[red]error:[/red] {shown(str(e))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2 if isinstance(e, OptionError) else 1) from None
        except ModuleNotFoundError as e:
            errors.print(f"[red]error:[/red] {escape(missing_module(e.name or str(e)))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            errors.print("interrupted")
            raise typer.Exit(130) from None
        except Exception as e:  # a bug, not a user error: still one line unless asked for more
            if os.environ.get("FACEPOINTS_DEBUG"):
                raise
            errors.print(f"[red]internal error:[/red] {type(e).__name__}: {shown(str(e))} (set FACEPOINTS_DEBUG=1 for details)",
                         highlight=False, soft_wrap=True)
            raise typer.Exit(3) from None

    return command if os.environ.get("FACEPOINTS_DEBUG") == "raw" else wrapper


@contextmanager
def image_progress(label: str, total: int) -> Iterator[Callable[[dict], None]]:
    """A progress bar over ``total`` images (none for a single one), and the ``on_entry`` callback
    of ``facepoints.batch.each_image`` that advances it and prints each failed image's error."""
    with Progress(console=errors, transient=True, disable=total < 2) as progress:
        task = progress.add_task(label, total=total)

        def on_entry(entry: dict) -> None:
            if "error" in entry:
                errors.print(f"[red]error:[/red] {shown(entry['error'])}", highlight=False, soft_wrap=True)
            progress.advance(task)

        yield on_entry
