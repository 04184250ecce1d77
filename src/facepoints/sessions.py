"""ONNX Runtime sessions on the CPU, made one way for every model and detector."""

from __future__ import annotations

import os
from pathlib import Path

import onnxruntime as ort


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_session(path: str | Path, threads: int | None = None) -> ort.InferenceSession:
    """An ONNX Runtime CPU session on ``threads`` threads (default: one per core this process may
    use; ONNX Runtime's own default counts the machine's, ignoring `taskset`)."""
    options = ort.SessionOptions()
    # Idle threads that spin slow every call down when anything else shares the cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.intra_op_num_threads = threads or available_cores()
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
