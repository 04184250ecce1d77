"""Store a bundled ONNX model's float weights in half precision, to halve what the package
carries; ONNX Runtime casts them back to float once, when it loads the model (constant folding),
so the model runs exactly as a float model whose weights were rounded to half precision.

    python tools/half_weights.py src/facepoints/assets/fkd15.onnx   # in place

8-bit models (ibug68) are left as they are: their weights are already integers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from facepoints.fileio import atomic_path

SMALLEST = 16  # scalars and short vectors (shapes, biases of a few outputs) stay float


def half_stored(model: onnx.ModelProto) -> onnx.ModelProto:
    """``model`` with each float initializer of SMALLEST or more values stored as float16 and cast
    back by a Cast node at the graph's start."""
    graph = model.graph
    initializers, casts = [], []
    for tensor in graph.initializer:
        values = numpy_helper.to_array(tensor)
        if tensor.data_type != TensorProto.FLOAT or values.size < SMALLEST:
            initializers.append(tensor)
            continue
        half = numpy_helper.from_array(values.astype(np.float16), f"{tensor.name}.half")
        initializers.append(half)
        casts.append(helper.make_node("Cast", [half.name], [tensor.name], to=TensorProto.FLOAT))
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return model


def main(paths: list[str]) -> None:
    for path in map(Path, paths):
        before = path.stat().st_size
        model = half_stored(onnx.load(str(path)))
        onnx.checker.check_model(model)
        with atomic_path(path) as tmp:
            onnx.save(model, str(tmp))
        print(f"{path}: {before / 1e6:.1f} -> {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
