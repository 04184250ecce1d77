"""A trained model's torch weights: where they are, what record they carry, the graph they fill.

Explain looks inside them and ``train --init`` starts from them. The weights file holds the state
of the inference graph `facepoints train` builds (flip-averaged, ensembled or split as its config
says) and the model's record (model_record.ModelRecord); weights written before they held the
record take it from the ONNX file beside them (a run's model.onnx, a bundled <name>.onnx).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from torch import nn

from facepoints.errors import ModelError
from facepoints.model_record import METADATA_KEY, ModelRecord
from facepoints.models import create_model
from facepoints.models.wrappers import CorePlusFull, Ensemble, FlipAveraged
from facepoints.runtime import BUNDLED, KeypointModel, bundled_model_path
from facepoints.schemes import Scheme
from facepoints.training.config import TrainConfig


def resolve_weights(model: str | Path) -> tuple[Path, Path]:
    """(weights, ONNX beside them) for a bundled name, a run folder or a .safetensors file."""
    if str(model) in BUNDLED:
        onnx = bundled_model_path(str(model))
        weights = onnx.with_suffix(".safetensors")
        if not weights.is_file():
            raise ModelError(f"bundled model {model!r} has no torch weights in this installation ({weights.name})")
        return weights, onnx
    path = Path(model)
    if path.is_dir():
        weights = path / "model.safetensors"
        if not weights.is_file():
            raise ModelError(f"{path}: run folder has no model.safetensors")
        return weights, path / "model.onnx"
    if path.suffix == ".onnx":
        raise ModelError(f"{path}: needs torch weights (explain, train --init); give the run folder or a .safetensors file")
    if not path.is_file():
        raise ModelError(f"{model}: no such model file or run folder")
    return path, path.with_suffix(".onnx")


@dataclass
class TrainedWeights:
    """A weights file's state and what it says about the model that state fills."""

    path: Path
    record: ModelRecord
    config: TrainConfig
    scheme: Scheme
    state: dict[str, torch.Tensor]

    def predictor(self) -> nn.Module:
        """The inference graph, weights loaded."""
        predictor = predictor_skeleton(self.config, self.scheme, self.record.channels, self.record.image_size[0])
        try:
            predictor.load_state_dict(self.state)
        except RuntimeError:
            raise ModelError(f"{self.path}: the weights do not fit the {self.config.model} model "
                             "its config describes") from None
        return predictor


def read_trained(model: str | Path) -> TrainedWeights:
    """The weights of a bundled name, a run folder or a .safetensors file, with their record."""
    path, onnx = resolve_weights(model)
    try:
        with safe_open(str(path), framework="pt") as f:
            state = {k: f.get_tensor(k) for k in f.keys()}
            metadata = dict(f.metadata() or {})
    except Exception as e:  # safetensors raises its own error types for corrupt files
        raise ModelError(f"{path}: not a readable safetensors file ({str(e).splitlines()[0]})") from None
    try:
        record = weights_record(metadata, onnx, state)
        config = TrainConfig.from_dict(json.loads(record.config))
        scheme = record.keypoint_scheme()
    except (KeyError, TypeError, ValueError) as e:
        raise ModelError(f"{path}: weights without facepoints metadata ({e}); keep model.onnx beside them") from None
    return TrainedWeights(path, record, config, scheme, state)


def weights_record(metadata: dict[str, str], onnx: Path, state: dict) -> ModelRecord:
    """The record a weights file holds; for weights written before they held one, the record of the
    ONNX file beside them, else what they name, their learned label offset standing in for the one
    inference subtracts (right for Kaggle-layout runs; photo runs need model.onnx beside them)."""
    if METADATA_KEY not in metadata and onnx.is_file():
        return KeypointModel(onnx).record
    if METADATA_KEY not in metadata and "label_offset" in state:
        metadata = {"label_offset": float(state["label_offset"]), **metadata}
    return ModelRecord.from_properties(metadata)


def predictor_skeleton(config: TrainConfig, scheme: Scheme, channels: int, image_size: int) -> nn.Module:
    """An untrained inference graph shaped as training.strategies.fit_predictor builds it."""
    if config.ensemble > 1:
        return Ensemble([predictor_skeleton(config.but(ensemble=1), scheme, channels, image_size)
                         for _ in range(config.ensemble)])

    def one() -> nn.Module:
        network = create_model(config.model, scheme.num_keypoints, channels, image_size, **config.model_cfg)
        return FlipAveraged(network, scheme.flip_permutation(), 0.0) if config.flip_tta else network

    if config.strategy == "split":
        return CorePlusFull(one(), one(), scheme.num_keypoints, scheme.core)
    return one()
