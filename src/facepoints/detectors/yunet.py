"""YuNet (libfacedetection, BSD-3-Clause) on ONNX Runtime.

The network and weights are libfacedetection's, exported from the `yuface` wheel's library by
tools/export_yunet.py; decoding follows the library's own (bbox_decode, kps_decode,
detection_output). Run here, it gives the library's detections to within its integer rounding,
faster (docs/benchmarks.md), and sub-pixel reference points for framing.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from facepoints.detectors.base import Detection, scaled_back, shrink
from facepoints.detectors.registry import register_detector
from facepoints.errors import FacepointsError
from facepoints.options import MAX_SIDE, MIN_FACE_SIZE, SCORE_THRESHOLD, SIDE_LIMITS
from facepoints.sessions import cpu_session

STRIDES = (8, 16, 32)
# libfacedetection's detection_output: overlap threshold, candidates into NMS, faces out of it.
NMS_IOU, MAX_CANDIDATES, MAX_FACES = 0.3, 1000, 100


def model_path() -> Path:
    return Path(str(resources.files("facepoints") / "assets" / "yunet.onnx"))


@register_detector("yunet")
class YuNet:
    def __init__(self, threshold: float = SCORE_THRESHOLD, threads: int | None = None, max_side: int = MAX_SIDE,
                 min_face: float = MIN_FACE_SIZE):
        if not SIDE_LIMITS[0] <= max_side <= SIDE_LIMITS[1]:
            raise FacepointsError(f"detect_size must be {SIDE_LIMITS[0]}-{SIDE_LIMITS[1]} px, not {max_side}")
        self.threshold, self.max_side, self.min_face = threshold, max_side, min_face
        self.session = cpu_session(model_path(), threads)

    def __call__(self, image: np.ndarray) -> list[Detection]:
        small, scale = shrink(image, self.max_side)
        scores, boxes, landmarks = self.detect(small)
        found = scaled_back([Detection(b, float(s), p) for s, b, p in zip(scores, boxes, landmarks)], scale)
        return [d for d in found if min(d.box[2], d.box[3]) >= self.min_face]

    def detect(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scores (N,), boxes (N, 4) x, y, w, h and five points (N, 5, 2) in ``rgb``'s pixels, best first."""
        scores, boxes, points = [], [], []
        for stride, heads in zip(STRIDES, self.session.run(None, {"input": network_input(rgb)})):
            # Channels: class and objectness logits, box (4) and five-point (10) offsets; cells
            # row-major, cell i at (i % cols, i // cols).
            cells = heads[0].reshape(len(heads[0]), -1)
            score = np.sqrt(_sigmoid(cells[0]) * _sigmoid(cells[1]))
            keep = np.flatnonzero(score >= self.threshold)
            cols = heads.shape[3]
            grid = np.stack([keep % cols, keep // cols], 1).astype(np.float32) * stride
            bbox = cells[2:6, keep].T
            centre, size = bbox[:, :2] * stride + grid, np.exp(bbox[:, 2:]) * stride
            scores.append(score[keep])
            boxes.append(np.concatenate([centre - size / 2, size], 1))
            points.append(cells[6:16, keep].T.reshape(-1, 5, 2) * stride + grid[:, None])
        scores, boxes, points = np.concatenate(scores), np.concatenate(boxes), np.concatenate(points)
        kept = non_maximum_suppression(boxes, scores, self.threshold, NMS_IOU, MAX_CANDIDATES)
        kept = kept[np.argsort(-scores[kept], kind="stable")][:MAX_FACES]
        return scores[kept], boxes[kept].astype(np.float32), points[kept].astype(np.float32)


def non_maximum_suppression(boxes: np.ndarray, scores: np.ndarray, threshold: float, iou: float,
                            top_k: int) -> np.ndarray:
    """Indices of the boxes (x, y, w, h) kept, best first, as OpenCV's dnn.NMSBoxes keeps them:
    of the ``top_k`` best scoring over ``threshold``, each box that overlaps none kept before it
    by more than ``iou`` (intersection over union)."""
    order = np.flatnonzero(scores > threshold)
    order = order[np.argsort(-scores[order], kind="stable")][:top_k]
    x0, y0 = boxes[:, 0].astype(np.float64), boxes[:, 1].astype(np.float64)
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    area = boxes[:, 2].astype(np.float64) * boxes[:, 3]
    kept: list[int] = []
    while len(order):  # keep the best left, drop what overlaps it: one pass a kept box
        best, rest = order[0], order[1:]
        kept.append(int(best))
        width = np.clip(np.minimum(x1[best], x1[rest]) - np.maximum(x0[best], x0[rest]), 0, None)
        height = np.clip(np.minimum(y1[best], y1[rest]) - np.maximum(y0[best], y0[rest]), 0, None)
        overlap = width * height
        order = rest[~(overlap / (area[best] + area[rest] - overlap) > iou)]
    return np.array(kept, int)


def network_input(rgb: np.ndarray) -> np.ndarray:
    """The network's input: (1, 3, H, W) float 0-255, zero-padded at the right and bottom to a multiple of 32."""
    height, width = rgb.shape[:2]
    padded = np.zeros((1, 3, -(-height // 32) * 32, -(-width // 32) * 32), np.float32)
    padded[0, :, :height, :width] = rgb[..., :3].transpose(2, 0, 1)
    return padded


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 + 0.5 * np.tanh(0.5 * x)  # 1 / (1 + exp(-x)), without overflow for very negative logits
