"""`facepoints models`: the architectures `facepoints train --model` accepts."""

from __future__ import annotations

from facepoints.commands.console import console


def models():
    """List the architectures `facepoints train --model` accepts."""
    from facepoints.models import list_models

    for name in list_models():
        console.print(name)
