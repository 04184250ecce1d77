"""`facepoints models`: the bundled models, when to choose each, and the architectures `train` accepts."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from facepoints.commands.console import console, missing_module

# When to choose each bundled model; their measured speeds and errors are in docs/benchmarks.md.
CHOICE = {
    "ibug68": ("most accurate", "photos: the default of detect and serve"),
    "ibug68-fast": ("fast", "video and the webcam (filter's default): faster per face, a little less accurate"),
    "ibug68-tiny": ("fastest", "many photos on a slow CPU: 96 px crops, with --no-flip-test --detect-size 320"),
    "fkd15": ("-", "the Kaggle layout's 15 points on 96 px grey faces: submit, evaluate"),
}


def models():
    """List the bundled models (what each takes and gives, when to choose it) and the
    architectures `facepoints train --model` accepts."""
    from facepoints.runtime import BUNDLED, KeypointModel

    table = Table(title="Bundled models (speeds and errors: docs/benchmarks.md)")
    for column in ("model", "scheme", "input", "file", "speed", "choose it for"):
        table.add_column(column)
    for name in BUNDLED:
        model = KeypointModel(name)
        height, width = model.image_size
        speed, use = CHOICE[name]
        colour = "RGB" if model.channels == 3 else "grey"
        table.add_row(name, f"{model.scheme.name} ({model.scheme.num_keypoints})", f"{width}x{height} {colour}",
                      f"{model.path.stat().st_size / 1e6:.1f} MB", speed, use)
    console.print(table)
    try:
        from facepoints.models import list_models
    except ModuleNotFoundError as e:
        console.print(f"Architectures to train: {escape(missing_module(e.name or str(e)))}")
        return
    console.print(f"Architectures to train (train --model): {', '.join(list_models())}")
