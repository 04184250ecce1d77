"""ONNX Runtime time of two YuNet graphs on the same real photos, taking turns: the bundled one
(each stride's heads merged, raw logits out, RGB in) against an earlier export (opencv_zoo's
twelve (1, cells, C) outputs, BGR in), e.g. from git history:

    git show c5f43d6~1:src/facepoints/assets/yunet.onnx > /tmp/yunet_zoo_layout.onnx
    python benchmarks/yunet_graph_speed.py /tmp/yunet_zoo_layout.onnx --data ../shared/data

Only `session.run` is timed, on AFW photos shrunk as `detect` shrinks them; each figure is the
mean over the photos and rounds, in ms.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from facepoints.detectors.base import shrink
from facepoints.detectors.yunet import model_path, network_input
from facepoints.imageio import read_image
from facepoints.sessions import cpu_session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("earlier", type=Path, help="the earlier export (BGR input)")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--sizes", type=int, nargs="+", default=[320, 640], help="detect sizes (longer side)")
    args = parser.parse_args()
    photos = [read_image(p) for p in sorted((args.data / "w300/photos/images").glob("*.jpg"))[: args.photos]]
    for threads in args.threads:
        graphs = {"bundled": (cpu_session(model_path(), threads), False),
                  "earlier": (cpu_session(args.earlier, threads), True)}
        for size in args.sizes:
            small = [shrink(photo, size)[0] for photo in photos]
            inputs = {name: [network_input(image[..., ::-1] if bgr else image) for image in small]
                      for name, (_, bgr) in graphs.items()}
            seconds = {name: 0.0 for name in graphs}
            for name, (session, _) in graphs.items():  # warm-up
                session.run(None, {"input": inputs[name][0]})
            for _ in range(args.rounds):
                for index in range(len(photos)):
                    for name, (session, _) in graphs.items():
                        started = time.perf_counter()
                        session.run(None, {"input": inputs[name][index]})
                        seconds[name] += time.perf_counter() - started
            runs = args.rounds * len(photos)
            print(json.dumps({"threads": threads, "detect_size": size,
                              "ms": {name: round(1000 * s / runs, 2) for name, s in seconds.items()}}))


if __name__ == "__main__":
    main()
