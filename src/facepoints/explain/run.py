"""Explain one face of a photo: frame it as inference does, map the asked keypoints, write pictures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facepoints.crop import apply_affine, invert_affine
from facepoints.detectors import Detection
from facepoints.draw import encode_image
from facepoints.errors import FacepointsError
from facepoints.explain.maps import gradcam, occlusion
from facepoints.explain.model import ExplainableModel
from facepoints.explain.pictures import grid_picture, keypoint_picture
from facepoints.fileio import write_bytes_atomic, write_text_atomic
from facepoints.inference import FaceKeypointer
from facepoints.schemes import Scheme


@dataclass
class Explanation:
    box: np.ndarray  # (4,) x, y, w, h of the face in the photo
    matrix: np.ndarray  # 2x3, photo pixels -> crop pixels
    crop: np.ndarray  # the model's input, uint8 (H, W) grey or (H, W, 3) RGB
    layer: str
    keypoints: list[int]  # indices into the model's scheme
    points: np.ndarray  # (K, 2) all predicted keypoints, crop pixel centres
    gradcam: np.ndarray  # (len(keypoints), 2, H, W): x and y maps
    occlusion: np.ndarray  # (len(keypoints), 2, H, W): x and y shifts in crop pixels

    def to_photo(self, points: np.ndarray) -> np.ndarray:
        return apply_affine(points, invert_affine(self.matrix))


def select_keypoints(scheme: Scheme, keypoint: str) -> list[int]:
    """`all` or one keypoint name of the model's scheme -> indices."""
    if keypoint == "all":
        return list(range(scheme.num_keypoints))
    if keypoint not in scheme.names:
        raise FacepointsError(f"unknown keypoint {keypoint!r}: the model gives {scheme.name} keypoints; "
                              f"choose all or one of: {', '.join(scheme.names)}")
    return [scheme.index(keypoint)]


def explain_face(model: ExplainableModel, image: np.ndarray, keypoints: list[int], layer: str | None = None,
                 box: np.ndarray | None = None, name: str = "<image>") -> Explanation:
    """Maps for the most confident face in ``image`` (RGB uint8), or the face in ``box``.

    The face is framed as `facepoints detect` frames it (a box gets one refinement pass)."""
    layer = layer or model.default_layer()
    keypointer = FaceKeypointer(model, refine=int(box is not None))
    detections = [Detection(box, 1.0)] if box is not None else keypointer.detector(image)
    if not detections:
        raise FacepointsError(f"{name}: no face found; give its box with --box x,y,w,h")
    best = int(np.argmax([d.score for d in detections]))
    crops, matrices = keypointer.frame(image, [detections[best]])
    crop, matrix = crops[0], matrices[0]
    points = model.record.to_pixel_centres(model.predict(crop[None])[0])
    return Explanation(detections[best].box, matrix, crop, layer, keypoints, points,
                       gradcam(model, crop, layer, keypoints), occlusion(model, crop, keypoints))


def write_explanation(explanation: Explanation, scheme: Scheme, out: Path, source: dict) -> list[Path]:
    """One picture per keypoint, grid.png of them all (if several), and explain.json, in ``out``."""
    e, written = explanation, []
    titles = [f"{k} {scheme.names[k]}" for k in e.keypoints]
    records = []
    for i, (k, title) in enumerate(zip(e.keypoints, titles)):
        shifts = e.occlusion[i].max(axis=(1, 2))
        picture = keypoint_picture(
            e.crop, e.points[k], f"{title}: what moves its x and y ({e.layer})",
            [e.gradcam[i, 0], e.gradcam[i, 1], e.occlusion[i, 0], e.occlusion[i, 1]],
            ["Grad-CAM x", "Grad-CAM y", f"occlusion x (up to {shifts[0]:.1f} px)",
             f"occlusion y (up to {shifts[1]:.1f} px)"])
        path = out / f"{k:02d}_{scheme.names[k]}.png"
        write_bytes_atomic(path, encode_image(picture))
        written.append(path)
        records.append({
            "index": k, "name": scheme.names[k], "xy": _rounded(e.to_photo(e.points[k])),
            "gradcam_peak": _rounded(e.to_photo(_peak(e.gradcam[i].sum(0)))),
            "occlusion_peak": _rounded(e.to_photo(_peak(e.occlusion[i].sum(0)))),
            "occlusion_max_shift_px": [round(float(v), 2) for v in shifts],
            "picture": path.name,
        })
    if len(e.keypoints) > 1:
        grid = grid_picture(e.crop, e.points[e.keypoints], titles, e.gradcam.sum(1), e.occlusion.sum(1),
                            f"left: Grad-CAM at {e.layer}; right: occlusion (x and y together)")
        write_bytes_atomic(out / "grid.png", encode_image(grid))
        written.append(out / "grid.png")
    document = {**source, "layer": e.layer, "box": _rounded(e.box), "scheme": scheme.name,
                "coordinates": "0-based pixel centres of the photo", "keypoints": records}
    write_text_atomic(out / "explain.json", json.dumps(document, indent=1))
    return written + [out / "explain.json"]


def _peak(heat: np.ndarray) -> np.ndarray:
    row, column = np.unravel_index(int(np.argmax(heat)), heat.shape)
    return np.array([column, row], np.float32)


def _rounded(values) -> list[float]:
    return [round(float(v), 2) for v in np.ravel(values)]
