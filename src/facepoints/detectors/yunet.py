"""YuNet (libfacedetection, BSD-3) through the `yuface` wheel, which has the weights compiled in."""

from __future__ import annotations

import os

# yuface's OpenMP threads spin while idle by default, which starves everything else on a small CPU
# (measured: 14-19 ms per frame became 103-157 ms beside another process).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import yuface  # noqa: E402

from facepoints.detectors.base import Detection, register_detector

# YuNet was trained at VGA-like sizes: larger photos are shrunk for detection and the results
# scaled back. 640 px found all 337 AFW faces, as 960 px did, at 2.3x the speed (benchmarks/detectors.py).
MAX_SIDE = 640


@register_detector("yunet")
class YuNet:
    def __init__(self, threshold: float = 0.6):
        self.threshold = threshold

    def __call__(self, image: np.ndarray) -> list[Detection]:
        scale = min(1.0, MAX_SIDE / max(image.shape[:2]))
        small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        bgr = np.ascontiguousarray(small[..., ::-1])
        scores, boxes, landmarks = yuface.detect(bgr, conf=self.threshold)
        detections = []
        for score, box, points in zip(scores, boxes, landmarks):
            box = box.astype(np.float32) / scale
            points = (points.astype(np.float32).reshape(5, 2) + 0.5) / scale - 0.5
            detections.append(Detection(box=box, score=float(score) / 100.0, landmarks=points))
        return sorted(detections, key=lambda d: -d.score)
