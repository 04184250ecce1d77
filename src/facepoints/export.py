"""Export a trained inference graph to ONNX with everything a runtime needs in one file."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from facepoints import __version__
from facepoints.fileio import atomic_path
from facepoints.runtime import METADATA_KEY


def export_onnx(predictor: nn.Module, path: str | Path, *, scheme: str, image_size: tuple[int, int],
                channels: int, extra: dict | None = None, opset: int = 17) -> Path:
    """Write ``predictor`` (uint8-free: float NCHW in [0, 1] -> (N, K, 2) pixels) as ONNX.

    The metadata records the scheme, input size and framing so inference needs no other file."""
    predictor = predictor.float().cpu().eval()
    dummy = torch.rand(2, channels, *image_size)
    metadata = {
        "scheme": scheme,
        "image_size": list(image_size),
        "channels": channels,
        "input": "float32 (N, C, H, W), grey or RGB values in [0, 1]",
        "output": "float32 (N, K, 2): (x, y) in the input's pixels",
        "facepoints_version": __version__,
        **(extra or {}),
    }
    path = Path(path)
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            predictor, (dummy,), str(tmp), input_names=["images"], output_names=["keypoints"],
            dynamic_axes={"images": {0: "batch"}, "keypoints": {0: "batch"}}, opset_version=opset,
            dynamo=False,
        )
        model = onnx.load(str(tmp))
        model.metadata_props.add(key=METADATA_KEY, value=json.dumps(metadata))
        onnx.save(model, str(tmp))
    return path
