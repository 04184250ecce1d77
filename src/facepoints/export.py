"""Export a trained inference graph to ONNX with everything a runtime needs in one file."""

from __future__ import annotations

import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from facepoints.fileio import atomic_path
from facepoints.model_record import ModelRecord


def export_onnx(predictor: nn.Module, path: str | Path, record: ModelRecord, opset: int = 17) -> Path:
    """Write ``predictor`` (float NCHW in [0, 1] -> (N, K, 2) pixels) as ONNX, with ``record`` in
    its metadata, so inference needs no other file."""
    predictor = predictor.float().cpu().eval()
    dummy = torch.rand(2, record.channels, *record.image_size)
    path = Path(path)
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            predictor, (dummy,), str(tmp), input_names=["images"], output_names=["keypoints"],
            dynamic_axes={"images": {0: "batch"}, "keypoints": {0: "batch"}}, opset_version=opset,
            dynamo=False,
        )
        model = onnx.load(str(tmp))
        for key, value in record.properties().items():
            model.metadata_props.add(key=key, value=value)
        onnx.save(model, str(tmp))
    return path
