"""Make a run folder a bundled model: its ONNX for inference, and its weights in half
precision (safetensors, for tools that need the torch model, such as `facepoints explain`).

    python tools/bundle_model.py runs/fkd15 fkd15      # -> src/facepoints/assets/fkd15.{onnx,safetensors}
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import onnx
import torch
from safetensors.torch import load_file, save_file

ASSETS = Path(__file__).resolve().parents[1] / "src" / "facepoints" / "assets"


def main(run: str, name: str) -> None:
    run_dir = Path(run)
    meta = {p.key: p.value for p in onnx.load(str(run_dir / "model.onnx"), load_external_data=False).metadata_props}
    described = json.loads(meta["facepoints"])
    state = load_file(str(run_dir / "model.safetensors"))
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    metadata = {"config": described["config"], "scheme": described["scheme"],
                "image_size": str(described["image_size"][0]), "channels": str(described["channels"])}
    shutil.copyfile(run_dir / "model.onnx", ASSETS / f"{name}.onnx")
    save_file({k: v.contiguous() for k, v in half.items()}, str(ASSETS / f"{name}.safetensors"), metadata=metadata)
    print(f"{name}: {sum(v.numel() for v in half.values() if v.dtype == torch.float16):,} half-precision weights")


if __name__ == "__main__":
    main(*sys.argv[1:])
