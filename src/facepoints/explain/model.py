"""A keypoint model as torch modules, for looking inside it: bundled names, run folders, .safetensors
(training.weights reads them). Explanations are of the network itself: test-time flip averaging is taken
off, so a map shows what one pass looks at.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from facepoints.errors import ModelError
from facepoints.models.common import KeypointRegressor
from facepoints.models.integral import HeatmapNet
from facepoints.models.wrappers import FlipAveraged
from facepoints.training.weights import read_trained

# "The last convolutional block": the map the keypoint head reads.
DEFAULT_LAYERS = {HeatmapNet: "decoder", KeypointRegressor: "features"}


class ExplainableModel:
    """Torch networks plus what inference needs to frame faces for them.

    Has runtime.KeypointModel's attributes and ``predict``, so inference.FaceKeypointer frames
    faces for it exactly as for the ONNX model."""

    def __init__(self, model: str | Path):
        trained = read_trained(model)
        self.path, self.record, self.config, self.scheme = trained.path, trained.record, trained.config, trained.scheme
        self.image_size, self.channels = self.record.image_size, self.record.channels
        self.framing, self.label_offset = self.record.framing, self.record.label_offset
        predictor = trained.predictor()
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


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W[, C]) -> float (N, C, H, W) in [0, 1], the models' input."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0


def without_flip_averaging(module: nn.Module) -> nn.Module:
    """The same graph with every FlipAveraged replaced by the network it wraps."""
    if isinstance(module, FlipAveraged):
        return without_flip_averaging(module.model)
    for name, child in module.named_children():
        setattr(module, name, without_flip_averaging(child))
    return module
