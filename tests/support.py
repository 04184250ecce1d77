"""Helpers the tests share (importable by name: pytest's pythonpath holds tests/)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
# The photo models' held-out groups ("w300:<photo>", "faces68:<person>"): faces no bundled model trained on.
HELD_OUT = set(json.loads((REPO / "docs/results/photo68/split.json").read_text())["val_groups"])


def cli(*args: str) -> subprocess.CompletedProcess:
    """`facepoints ARGS` in a new process, its output captured."""
    return subprocess.run([sys.executable, "-m", "facepoints.cli", *map(str, args)], capture_output=True, text=True)


def benchmark_module(name: str) -> ModuleType:
    """benchmarks/NAME.py, imported (the benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
