"""A keypoint model as torch modules, for looking inside it: bundled names, run folders, .safetensors.

The weights file holds the state of the inference graph `facepoints train` builds (flip-averaged,
ensembled or split as its config says) and the model's record (model_record.ModelRecord); weights
written before they held the record take it from the ONNX file beside them (a run's model.onnx, a
bundled <name>.onnx). Explanations are of the network itself: test-time flip averaging is taken
off, so a map shows what one pass looks at.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from torch import nn

from facepoints.errors import ModelError
from facepoints.model_record import METADATA_KEY, ModelRecord
from facepoints.models import create_model
from facepoints.models.common import KeypointRegressor
from facepoints.models.integral import HeatmapNet
from facepoints.models.wrappers import CorePlusFull, Ensemble, FlipAveraged
from facepoints.runtime import BUNDLED, KeypointModel, bundled_model_path
from facepoints.schemes import Scheme, get_scheme
from facepoints.training.config import TrainConfig

# "The last convolutional block": the map the keypoint head reads.
DEFAULT_LAYERS = {HeatmapNet: "decoder", KeypointRegressor: "features"}


def resolve_weights(model: str | Path) -> tuple[Path, Path]:
    """(weights, ONNX beside them) for a bundled name, a run folder or a .safetensors file."""
    if str(model) in BUNDLED:
        onnx = bundled_model_path(str(model))
        weights = onnx.with_suffix(".safetensors")
        if not weights.is_file():
            raise ModelError(f"bundled model {model!r} has no torch weights in this installation ({weights.name}); "
                             "explain needs them")
        return weights, onnx
    path = Path(model)
    if path.is_dir():
        weights = path / "model.safetensors"
        if not weights.is_file():
            raise ModelError(f"{path}: run folder has no model.safetensors")
        return weights, path / "model.onnx"
    if path.suffix == ".onnx":
        raise ModelError(f"{path}: explain needs torch weights; give the run folder or a .safetensors file")
    if not path.is_file():
        raise ModelError(f"{model}: no such model file or run folder")
    return path, path.with_suffix(".onnx")


class ExplainableModel:
    """Torch networks plus what inference needs to frame faces for them.

    Has runtime.KeypointModel's attributes and ``predict``, so inference.FaceKeypointer frames
    faces for it exactly as for the ONNX model."""

    def __init__(self, model: str | Path):
        self.path, onnx = resolve_weights(model)
        try:
            with safe_open(str(self.path), framework="pt") as f:
                state = {k: f.get_tensor(k) for k in f.keys()}
                metadata = dict(f.metadata() or {})
        except Exception as e:  # safetensors raises its own error types for corrupt files
            raise ModelError(f"{self.path}: not a readable safetensors file ({str(e).splitlines()[0]})") from None
        try:
            self.record = weights_record(metadata, onnx, state)
            self.config = TrainConfig.from_dict(json.loads(self.record.config))
            self.scheme: Scheme = get_scheme(self.record.scheme)
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(f"{self.path}: weights without facepoints metadata ({e}); "
                             "keep model.onnx beside them") from None
        self.image_size, self.channels = self.record.image_size, self.record.channels
        self.framing, self.label_offset = self.record.framing, self.record.label_offset

        predictor = predictor_skeleton(self.config, self.scheme, self.channels, self.image_size[0])
        try:
            predictor.load_state_dict(state)
        except RuntimeError:
            raise ModelError(f"{self.path}: the weights do not fit the {self.config.model} model "
                             "its config describes") from None
        self.network = without_flip_averaging(predictor).float().eval()
        for module in self.network.modules():  # hooks read activations; in-place ops would overwrite them
            if hasattr(module, "inplace"):
                module.inplace = False
        # The networks inside (ensemble members, the split strategy's pair); one for most runs.
        self.parts = [m for m in self.network.modules() if hasattr(m, "num_keypoints")]

    @property
    def architecture(self) -> str:
        return self.config.model

    @torch.no_grad()
    def predict(self, images: np.ndarray) -> np.ndarray:
        """uint8 (N, H, W[, C]) crops -> (N, K, 2) float32, as runtime.KeypointModel.predict."""
        return self.network(to_tensor(images)).numpy()

    def layers(self) -> list[str]:
        """Names of the modules whose output is a feature map, in the order the network runs them."""
        names: list[str] = []
        part = self.parts[0]
        hooks = [module.register_forward_hook(lambda m, i, out, name=name: names.append(name)
                                              if isinstance(out, torch.Tensor) and out.ndim == 4 else None)
                 for name, module in part.named_modules() if name]
        with torch.no_grad():
            part(torch.zeros(1, self.channels, *self.image_size))
        for hook in hooks:
            hook.remove()
        return list(dict.fromkeys(names))

    def default_layer(self) -> str:
        part = self.parts[0]
        for kind, name in DEFAULT_LAYERS.items():
            if isinstance(part, kind):
                return name
        convs = [name for name, m in part.named_modules() if isinstance(m, nn.Conv2d)]
        if not convs:
            raise ModelError(f"{self.path}: the {self.architecture} model has no convolutional layer to explain")
        return convs[-1]

    def check_layer(self, layer: str) -> None:
        layers = self.layers()
        if layer not in layers:
            blocks = [name for name in layers if name.count(".") <= 2]
            raise ModelError(f"unknown layer {layer!r} of the {self.architecture} model in {self.path}; "
                             f"choose one of: {', '.join(blocks)} (or a sub-module by its full name)")


def weights_record(metadata: dict[str, str], onnx: Path, state: dict) -> ModelRecord:
    """The record a weights file holds; for weights written before they held one, the record of the
    ONNX file beside them, else what they name, their learned label offset standing in for the one
    inference subtracts (right for Kaggle-layout runs; photo runs need model.onnx beside them)."""
    if METADATA_KEY not in metadata and onnx.is_file():
        return KeypointModel(onnx).record
    if METADATA_KEY not in metadata and "label_offset" in state:
        metadata = {"label_offset": float(state["label_offset"]), **metadata}
    return ModelRecord.from_properties(metadata)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W[, C]) -> float (N, C, H, W) in [0, 1], the models' input."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0


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


def without_flip_averaging(module: nn.Module) -> nn.Module:
    """The same graph with every FlipAveraged replaced by the network it wraps."""
    if isinstance(module, FlipAveraged):
        return without_flip_averaging(module.model)
    for name, child in module.named_children():
        setattr(module, name, without_flip_averaging(child))
    return module
