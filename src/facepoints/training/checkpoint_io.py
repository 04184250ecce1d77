"""Lightning checkpoints as safetensors: no pickles, written atomically.

Lightning's checkpoint is a nested dict of tensors and plain values (optimizer state, loop
counters, callback state). Tensors go into the safetensors body; everything else goes into its
JSON metadata with the tensors' places marked, so a resumed run gets back exactly what it saved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from pytorch_lightning.plugins.io import CheckpointIO
from safetensors import safe_open
from safetensors.torch import save_file

from facepoints.errors import ModelError
from facepoints.fileio import atomic_path

_TREE_KEY = "facepoints.checkpoint"


def _encode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, torch.Tensor):
        key = f"t{len(tensors)}"
        tensors[key] = value.detach().cpu().clone().contiguous()
        return {"__tensor__": key}
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k, tensors), _encode(v, tensors)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        items = [_encode(v, tensors) for v in value]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a safetensors checkpoint")


def _decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if isinstance(value, dict):
        if "__tensor__" in value:
            return tensors[value["__tensor__"]]
        if "__tuple__" in value:
            return tuple(_decode(v, tensors) for v in value["__tuple__"])
        return {_decode(k, tensors): _decode(v, tensors) for k, v in value["__dict__"]}
    return value


def save_tree(tree: dict, path: str | Path) -> None:
    tensors: dict[str, torch.Tensor] = {}
    encoded = json.dumps(_encode(tree, tensors))
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={_TREE_KEY: encoded})


def load_tree(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    try:
        with safe_open(str(path), framework="pt", device=str(map_location)) as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}
            metadata = f.metadata() or {}
    except FileNotFoundError:
        raise ModelError(f"{path}: checkpoint not found") from None
    except Exception as e:  # safetensors raises its own error types for corrupt files
        raise ModelError(f"{path}: not a readable safetensors checkpoint ({e})") from None
    if _TREE_KEY not in metadata:
        raise ModelError(f"{path}: not a facepoints training checkpoint")
    return _decode(json.loads(metadata[_TREE_KEY]), tensors)


class SafetensorsCheckpointIO(CheckpointIO):
    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        save_tree(checkpoint, path)

    def load_checkpoint(self, path, map_location=None, weights_only=None) -> dict:
        return load_tree(path, map_location or "cpu")

    def remove_checkpoint(self, path) -> None:
        Path(path).unlink(missing_ok=True)
