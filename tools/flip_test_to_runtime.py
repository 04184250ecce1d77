"""Move the test-time flip of an older model file out of its graph and into the runtime
(flip.FlipTest), so `--no-flip-test` can skip the mirrored pass.

    python tools/flip_test_to_runtime.py src/facepoints/assets/ibug68-fast.onnx

The file keeps its network exactly (float or 8-bit): the graph is cut between the batch of crops
and mirrors models.wrappers.FlipAveraged concatenates and the points it splits in two, and the
flip's permutation and axis go into the metadata. The runtime then gives the same points as the
old graph did (checked here on random crops before the file is replaced).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from facepoints.fileio import atomic_path
from facepoints.flip import FlipTest
from facepoints.runtime import KeypointModel


def flip_averaging_cut(graph: onnx.GraphProto) -> tuple[str, str, np.ndarray, float]:
    """(batch of crops and mirrors, network's points, keypoint permutation, axis offset)."""
    initializers = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    concat = next(n for n in graph.node if n.op_type == "Concat" and n.input[0] == "images")
    sliced = [n.input[0] for n in graph.node if n.op_type == "Slice"]
    points = next(name for name in sliced if sliced.count(name) == 2)  # split into direct and mirrored
    permutation = initializers["flip_permutation"]
    # FlipAveraged's axis, (W - 1) + 2 * offset, exports as Add(W - 1, the constant 2 * offset).
    axis_add = next(n for n in graph.node if n.op_type == "Add" and n.input[0].startswith("/Cast"))
    return concat.output[0], points, permutation, float(initializers[axis_add.input[1]]) / 2


def network_between(model: onnx.ModelProto, crops: str, points: str) -> onnx.ModelProto:
    """The nodes that compute ``points`` from ``crops``, as a model from "images" to "keypoints"."""
    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    needed, wanted = [], [points]
    while wanted:
        name = wanted.pop()
        node = producer.get(name)
        if name == crops or node is None or node in needed:
            continue
        needed.append(node)
        wanted.extend(node.input)
    nodes = [n for n in graph.node if n in needed]  # the original order is a valid one
    for node in nodes:
        node.input[:] = ["images" if i == crops else i for i in node.input]
        node.output[:] = ["keypoints" if o == points else o for o in node.output]
    used = {i for n in nodes for i in n.input}
    channels, height, width = (d.dim_value for d in graph.input[0].type.tensor_type.shape.dim[1:])
    network = helper.make_graph(
        nodes, graph.name, [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", channels, height, width])],
        [helper.make_tensor_value_info("keypoints", TensorProto.FLOAT, ["batch", None, 2])],
        [i for i in graph.initializer if i.name in used])
    return helper.make_model(network, opset_imports=model.opset_import, ir_version=model.ir_version,
                             producer_name=model.producer_name, producer_version=model.producer_version)


def move_flip_test(path: Path) -> None:
    old = KeypointModel(path)
    if old.record.flip_test is not None:
        print(f"{path}: flip test is already the runtime's; left as it is")
        return
    model = onnx.load(str(path))
    crops, points, permutation, axis_offset = flip_averaging_cut(model.graph)
    network = network_between(model, crops, points)
    record = replace(old.record, flip_test=FlipTest(tuple(permutation.tolist()), axis_offset), flip_in_graph=False)
    for key, value in record.properties().items():
        network.metadata_props.add(key=key, value=value)

    crops_in = np.random.default_rng(0).integers(0, 256, (4, *old.image_size, old.channels), np.uint8)
    before = old.predict(crops_in)
    with atomic_path(path) as tmp:
        onnx.save(network, str(tmp))
        after = KeypointModel(tmp).predict(crops_in)
        if not np.allclose(before, after, atol=1e-3):
            raise SystemExit(f"{path}: the cut graph moves points by {np.abs(before - after).max():.4f} px; left as it was")
    print(f"{path}: flip test moved to the runtime (axis offset {axis_offset:+.4f}; points within "
          f"{np.abs(before - after).max():.1e} px of the old graph's)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", type=Path, nargs="+")
    for model_path in parser.parse_args().models:
        move_flip_test(model_path)
