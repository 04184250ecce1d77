"""Export YuNet, the face detector that the `yuface` wheel compiles into libfacedetection, to ONNX.

    python tools/export_yunet.py            # -> src/facepoints/assets/yunet.onnx

Why: the wheel's library is a portable build (no AVX2 kernels), so YuNet took 10.3 ms on a
faces68 frame and 42 ms on a 640-px photo here; the same network on ONNX Runtime takes a quarter
of that (benchmarks/detectors.py, docs/benchmarks.md). The weights are libfacedetection's own
(BSD-3-Clause, Shiqi Yu; the licence travels as assets/yunet.LICENSE), read from the library's
`param_pConvInfo` table; the graph re-states libfacedetection's `objectdetect_cnn`
(facedetectcnn-model.cpp, v3):

- the first layer is a 3x3, stride-2 convolution over the BGR image zero-padded at its right and
  bottom to a multiple of 32 (the library stores it as a 1x1 convolution over 27 gathered values);
- every other layer is a 1x1 convolution followed by a 3x3 depthwise one, ReLU after the pair in
  the backbone and neck, none in the heads;
- heads at strides 8, 16 and 32 give class and objectness logits, box and five-point offsets.

The export takes RGB (the first layer's colour weights reordered) and gives one output per stride,
`heads_8`, `heads_16`, `heads_32`: (1, 16, H / stride, W / stride) raw logits, channels class,
objectness, four box and ten point offsets. Each stride's four heads read the same features, so
their 1x1 convolutions are one with 16 filters and their depthwise ones one with 16 channels, the
same arithmetic in 6 convolutions instead of 24 and with no reshapes: 15-20% less time on ONNX
Runtime than opencv_zoo's layout of twelve (1, cells, C) outputs (docs/benchmarks.md).
`facepoints.detectors.yunet` decodes it; `tests/test_detectors.py` checks it against the library
on real photos.
"""

from __future__ import annotations

import ctypes
import shutil
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
import yuface
from torch import nn

ASSETS = Path(__file__).resolve().parents[1] / "src" / "facepoints" / "assets"
NUM_LAYERS = 53
STRIDES = (8, 16, 32)
HEADS = ("cls", "obj", "bbox", "kps")  # in the order of each stride's output channels


class ConvInfo(ctypes.Structure):
    """libfacedetection's ConvInfoStruct (facedetectcnn.h, v3)."""

    _fields_ = [("channels", ctypes.c_int), ("num_filters", ctypes.c_int), ("is_depthwise", ctypes.c_bool),
                ("is_pointwise", ctypes.c_bool), ("with_relu", ctypes.c_bool),
                ("weights", ctypes.POINTER(ctypes.c_float)), ("biases", ctypes.POINTER(ctypes.c_float))]


def library_layers() -> list[nn.Conv2d]:
    """The library's 53 layers as torch convolutions, in its own order."""
    library = ctypes.CDLL(str(Path(yuface.__file__).parent / "libfacedetection.so"))
    table = (ConvInfo * NUM_LAYERS).in_dll(library, "param_pConvInfo")
    layers = []
    for index, info in enumerate(table):
        n, c = info.num_filters, info.channels
        biases = np.ctypeslib.as_array(info.biases, (n,)).copy()
        if index == 0:  # 3x3 stride 2 over the image, stored as 1x1 over (ky, kx, BGR) padded to 32
            raw = np.ctypeslib.as_array(info.weights, (n, c)).copy()
            conv = nn.Conv2d(3, n, 3, stride=2, padding=1)
            weight = raw[:, :27].reshape(n, 3, 3, 3).transpose(0, 3, 1, 2)[:, ::-1]  # (out, RGB, ky, kx)
        elif info.is_pointwise:
            conv = nn.Conv2d(c, n, 1)
            weight = np.ctypeslib.as_array(info.weights, (n, c)).reshape(n, c, 1, 1)
        else:  # depthwise 3x3, stored kernel position first
            conv = nn.Conv2d(c, c, 3, padding=1, groups=c)
            weight = np.ctypeslib.as_array(info.weights, (9, c)).T.reshape(c, 1, 3, 3)
        conv.weight.data = torch.from_numpy(np.ascontiguousarray(weight, np.float32))
        conv.bias.data = torch.from_numpy(biases.astype(np.float32))
        layers.append(conv)
    return layers


def merged(pairs: list[tuple[nn.Conv2d, nn.Conv2d]]) -> nn.Sequential:
    """(1x1, depthwise 3x3) pairs that read the same input as one pair with their filters stacked."""
    pointwise = nn.Conv2d(pairs[0][0].in_channels, sum(p.out_channels for p, _ in pairs), 1)
    depthwise = nn.Conv2d(pointwise.out_channels, pointwise.out_channels, 3, padding=1, groups=pointwise.out_channels)
    for merged_conv, convs in ((pointwise, [p for p, _ in pairs]), (depthwise, [d for _, d in pairs])):
        merged_conv.weight.data = torch.cat([c.weight.data for c in convs])
        merged_conv.bias.data = torch.cat([c.bias.data for c in convs])
    return nn.Sequential(pointwise, depthwise)


class YuNet(nn.Module):
    """libfacedetection's objectdetect_cnn up to the decoding: RGB float (1, 3, H, W), H and W
    multiples of 32, pixel values 0-255 -> each stride's head logits."""

    def __init__(self, layers: list[nn.Conv2d]):
        super().__init__()
        self.layers = nn.ModuleList(layers[:29])  # stem, backbone and neck
        # First layer of each block in libfacedetection's objectdetect_cnn: backbone units (four
        # layers each), neck pairs, and each head's pair per stride.
        self.units = (3, 7, 11, 15, 19)
        self.neck = {8: 23, 16: 25, 32: 27}
        first = {8: {"cls": 29, "bbox": 35, "obj": 41, "kps": 47},
                 16: {"cls": 31, "bbox": 37, "obj": 43, "kps": 49},
                 32: {"cls": 33, "bbox": 39, "obj": 45, "kps": 51}}
        self.heads = nn.ModuleList(
            merged([(layers[first[s][h]], layers[first[s][h] + 1]) for h in HEADS]) for s in STRIDES)

    def pair(self, x: torch.Tensor, first: int) -> torch.Tensor:
        return F.relu(self.layers[first + 1](self.layers[first](x)))

    def unit(self, x: torch.Tensor, index: int) -> torch.Tensor:
        first = self.units[index]
        return self.pair(self.pair(x, first), first + 2)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = F.relu(self.layers[0](image))
        x = F.max_pool2d(self.pair(x, 1), 2)
        x = self.unit(self.unit(x, 0), 1)
        fb1 = self.unit(F.max_pool2d(x, 2), 2)
        fb2 = self.unit(F.max_pool2d(fb1, 2), 3)
        fb3 = self.unit(F.max_pool2d(fb2, 2), 4)
        fb3 = self.pair(fb3, self.neck[32])
        fb2 = self.pair(F.interpolate(fb3, scale_factor=2.0, mode="nearest") + fb2, self.neck[16])
        fb1 = self.pair(F.interpolate(fb2, scale_factor=2.0, mode="nearest") + fb1, self.neck[8])
        return tuple(head(features) for head, features in zip(self.heads, (fb1, fb2, fb3)))


def output_names() -> list[str]:
    return [f"heads_{stride}" for stride in STRIDES]


def main() -> None:
    model = YuNet(library_layers()).eval()
    target = ASSETS / "yunet.onnx"
    tmp = target.with_suffix(".tmp.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.rand(1, 3, 320, 320) * 255,), str(tmp), input_names=["input"],
                          output_names=output_names(), opset_version=17, dynamo=False,
                          dynamic_axes={"input": {2: "height", 3: "width"},
                                        **{name: {2: "rows", 3: "cols"} for name in output_names()}})
    onnx.checker.check_model(onnx.load(str(tmp)))
    tmp.replace(target)
    licence = next(Path(yuface.__file__).parent.parent.glob("yuface-*.dist-info/LICENSE"))
    shutil.copyfile(licence, ASSETS / "yunet.LICENSE")
    print(f"{target}: {target.stat().st_size:,} bytes, {sum(p.numel() for p in model.parameters()):,} parameters")


if __name__ == "__main__":
    main()
