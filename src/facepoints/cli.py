"""The `facepoints` command: registers each command of ``facepoints.commands``, nothing more.
User errors print one line and exit non-zero, never a traceback."""

from __future__ import annotations

import signal
import sys

import typer

from facepoints.version import __version__
from facepoints.commands.align import align
from facepoints.commands.audit import audit
from facepoints.commands.console import console, user_errors
from facepoints.commands.detect import detect
from facepoints.commands.detect_ray import detect_ray
from facepoints.commands.evaluate import evaluate
from facepoints.commands.explain import explain
from facepoints.commands.filter import filter_faces
from facepoints.commands.models import models
from facepoints.commands.serve import serve
from facepoints.commands.submit import submit
from facepoints.commands.train import train

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Facial keypoints: train, measure and use keypoint models.")


def _version(value: bool):
    if value:
        console.print(f"facepoints {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit.")):
    """Facial keypoints: train, measure and use keypoint models."""


app.command()(user_errors(train))
app.command()(user_errors(evaluate))
app.command()(user_errors(submit))
app.command()(user_errors(detect))
app.command()(user_errors(detect_ray))
app.command()(user_errors(audit))
app.command("filter")(user_errors(filter_faces))
app.command()(user_errors(serve))
app.command()(user_errors(explain))
app.command()(user_errors(align))
app.command()(models)


def _optional_values(argv: list[str]) -> list[str]:
    """`--webcam` alone means camera 0 (click options take a value or none, not either)."""
    out = []
    for i, arg in enumerate(argv):
        out.append(arg)
        if arg == "--webcam" and not (i + 1 < len(argv) and argv[i + 1].isdigit()):
            out.append("0")
    return out


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def run() -> None:  # console-script entry point
    # Stopped by `kill` or a closed terminal, a run cleans up (partial outputs removed) as on Ctrl-C.
    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None:
            signal.signal(signum, _interrupt)
    app(args=_optional_values(sys.argv[1:]), prog_name="facepoints")


if __name__ == "__main__":
    sys.exit(run())
