"""Run an exported keypoint model with ONNX Runtime. Imports no torch: this is the inference path."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import numpy as np
import onnxruntime as ort

from facepoints.crop import Framing
from facepoints.errors import ModelError
from facepoints.schemes import Scheme, get_scheme

METADATA_KEY = "facepoints"
BUNDLED = {"ibug68": "ibug68.onnx", "ibug68-fast": "ibug68-fast.onnx", "ibug68-tiny": "ibug68-tiny.onnx",
           "fkd15": "fkd15.onnx"}


def bundled_model_path(name: str) -> Path:
    """Path of a default model shipped inside the package."""
    if name not in BUNDLED:
        raise ModelError(f"no bundled model {name!r}; bundled: {', '.join(BUNDLED)}")
    return Path(str(resources.files("facepoints") / "assets" / BUNDLED[name]))


def resolve_model_path(model: str | Path) -> Path:
    """A .onnx file, a run folder from `facepoints train` (its model.onnx), or a bundled name."""
    if str(model) in BUNDLED:
        path = bundled_model_path(str(model))
        if not path.is_file():
            raise ModelError(f"bundled model {model!r} is missing from this installation ({path})")
        return path
    path = Path(model)
    if path.is_dir():
        path = path / "model.onnx"
    if not path.is_file():
        raise ModelError(f"{model}: no such model file or run folder")
    return path


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_session(path: str | Path, threads: int | None = None) -> ort.InferenceSession:
    """An ONNX Runtime CPU session on ``threads`` threads (default: one per core this process may
    use; ONNX Runtime's own default counts the machine's, ignoring `taskset`)."""
    options = ort.SessionOptions()
    # Idle threads that spin cost 6x per call when anything else shares the cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.intra_op_num_threads = threads or available_cores()
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class FlipTest:
    """Test-time flip: average a model's points with its points on the mirrored crop, mapped back.

    In a label frame offset by ``axis_offset`` from pixel centres, mirroring maps x to
    (W - 1 + 2 * axis_offset) - x; ``permutation`` swaps left and right keypoints. The torch twin,
    models.wrappers.FlipAveraged, does the same inside the graph while training validates."""

    def __init__(self, permutation, axis_offset: float):
        self.permutation = np.asarray(permutation, np.int64)
        self.axis_offset = float(axis_offset)

    def average(self, direct: np.ndarray, mirrored: np.ndarray, width: int) -> np.ndarray:
        mirrored = mirrored[:, self.permutation]
        axis = (width - 1) + 2 * self.axis_offset
        return (direct + np.stack([axis - mirrored[..., 0], mirrored[..., 1]], -1)) / 2


class KeypointModel:
    """A keypoint model and its metadata: scheme, input size, channels, framing.

    ``flip_test`` (default on) averages each face with its mirror image, for models whose file
    leaves that to the runtime: about 0.001 lower NME for 1.6-2x the model's time per face."""

    def __init__(self, path: str | Path, threads: int | None = None, flip_test: bool = True):
        self.path = resolve_model_path(path)
        try:
            self.session = cpu_session(self.path, threads)
            raw = self.session.get_modelmeta().custom_metadata_map[METADATA_KEY]
            self.metadata = json.loads(raw)
        except KeyError:
            raise ModelError(f"{self.path}: not a facepoints model (no '{METADATA_KEY}' metadata)") from None
        except Exception as e:  # onnxruntime raises its own error types for corrupt files
            raise ModelError(f"{self.path}: cannot load ONNX model ({str(e).splitlines()[0]})") from None
        try:
            self.scheme: Scheme = get_scheme(self.metadata["scheme"])
            self.image_size: tuple[int, int] = tuple(self.metadata["image_size"])
            self.channels: int = int(self.metadata["channels"])
            self.framing = Framing.from_dict(self.metadata["framing"])
            # Where the training labels' origin sat relative to pixel centres (1-based labels: +1).
            self.label_offset = float(self.metadata.get("label_offset", 0.0))
            record = self.metadata.get("flip_test")
            # The flip this runtime does (None: off, or none to do); ``flip_test`` is what was asked.
            self.flip = FlipTest(record["permutation"], record["axis_offset"]) if record and flip_test else None
            in_graph = not record and self._flip_in_graph()
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(f"{self.path}: facepoints metadata is incomplete or of another version ({e})") from None
        if in_graph and not flip_test:
            raise ModelError(f"{self.path}: this model averages each face with its mirror inside its graph, "
                             "so it cannot run without flip test")

    def _flip_in_graph(self) -> bool:
        """Ensembles and split models say so; files exported before 2026-12-04, when flip test
        moved to the runtime, kept it in the graph whenever their config asked for it."""
        if "flip_in_graph" in self.metadata:
            return bool(self.metadata["flip_in_graph"])
        config = self.metadata.get("config")
        return bool(json.loads(config).get("flip_tta")) if isinstance(config, str) else False

    def predict(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """uint8 (N, H, W) or (N, H, W, C) images of the model's size -> (N, K, 2) float32."""
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]
        expected = (*self.image_size, self.channels)
        if images.shape[1:] != expected:
            raise ModelError(f"{self.path}: expects images of shape {expected}, got {images.shape[1:]}")
        batches = [self._run(images[i : i + batch_size].transpose(0, 3, 1, 2).astype(np.float32) / 255.0)
                   for i in range(0, len(images), batch_size)]
        return np.concatenate(batches) if batches else np.zeros((0, self.scheme.num_keypoints, 2), np.float32)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """Float NCHW crops -> points; with flip test, the crops and their mirrors in one call."""
        if self.flip is None:
            return self.session.run(None, {"images": batch})[0]
        both = self.session.run(None, {"images": np.concatenate([batch, batch[..., ::-1]])})[0]
        return self.flip.average(both[: len(batch)], both[len(batch) :], batch.shape[-1])
