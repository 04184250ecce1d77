"""Run an exported keypoint model with ONNX Runtime. Imports no torch: this is the inference path."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np

from facepoints.errors import ModelError
from facepoints.flip import mirror_points
from facepoints.model_record import METADATA_KEY, ModelRecord
from facepoints.schemes import Scheme
from facepoints.sessions import cpu_session

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


class KeypointModel:
    """A keypoint model and its record (model_record.ModelRecord): scheme, input size, channels,
    framing, label offset.

    ``flip_test`` (default on) averages each face with its mirror image, for models whose file
    leaves that to the runtime: a little more accurate for a second pass of the model per face."""

    def __init__(self, path: str | Path, threads: int | None = None, flip_test: bool = True):
        self.path = resolve_model_path(path)
        try:
            self.session = cpu_session(self.path, threads)
            metadata = json.loads(self.session.get_modelmeta().custom_metadata_map[METADATA_KEY])
        except KeyError:
            raise ModelError(f"{self.path}: not a facepoints model (no '{METADATA_KEY}' metadata)") from None
        except Exception as e:  # onnxruntime raises its own error types for corrupt files
            raise ModelError(f"{self.path}: cannot load ONNX model ({str(e).splitlines()[0]})") from None
        try:
            self.record = ModelRecord.from_metadata(metadata)
            self.scheme: Scheme = self.record.keypoint_scheme()
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(f"{self.path}: facepoints metadata is incomplete or of another version ({e})") from None
        if self.record.flip_in_graph and not flip_test:
            raise ModelError(f"{self.path}: this model averages each face with its mirror inside its graph, "
                             "so it cannot run without flip test")
        self.image_size, self.channels = self.record.image_size, self.record.channels
        self.framing, self.label_offset = self.record.framing, self.record.label_offset
        # The flip this runtime does (None: off, or none to do); ``flip_test`` is what was asked.
        self.flip = self.record.flip_test if flip_test else None

    def predict(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """uint8 (N, H, W) or (N, H, W, C) images of the model's size -> (N, K, 2) float32."""
        return self.predict_with_spread(images, batch_size)[0]

    def predict_with_spread(self, images: np.ndarray, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray | None]:
        """``predict``'s points and, with flip test, (N, K) how far apart the direct and the mirrored
        pass put each point, in crop pixels: where the two disagree the model is unsure."""
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]
        expected = (*self.image_size, self.channels)
        if images.shape[1:] != expected:
            raise ModelError(f"{self.path}: expects images of shape {expected}, got {images.shape[1:]}")
        batches = [self._run(images[i : i + batch_size].transpose(0, 3, 1, 2).astype(np.float32) / 255.0)
                   for i in range(0, len(images), batch_size)]
        if not batches:
            k = self.scheme.num_keypoints
            return np.zeros((0, k, 2), np.float32), (np.zeros((0, k), np.float32) if self.flip else None)
        spreads = [spread for _, spread in batches]
        return (np.concatenate([points for points, _ in batches]),
                None if spreads[0] is None else np.concatenate(spreads))

    def _run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Float NCHW crops -> points (and the passes' spread); with flip test, the crops and their
        mirrors in one call."""
        if self.flip is None:
            return self.session.run(None, {"images": batch})[0], None
        both = self.session.run(None, {"images": np.concatenate([batch, batch[..., ::-1]])})[0]
        direct, on_mirror = both[: len(batch)], both[len(batch) :]
        mirrored = mirror_points(on_mirror, batch.shape[-1], self.flip.permutation, self.flip.axis_offset)
        return (direct + mirrored) / 2, np.linalg.norm(direct - mirrored, axis=-1)
