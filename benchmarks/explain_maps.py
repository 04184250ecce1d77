"""Do `facepoints explain`'s maps mean something? Measured on labelled 300-W faces.

    python benchmarks/explain_maps.py --data ../shared/data --every 50

For every keypoint of every face (framed as `facepoints detect` frames it), with x and y maps added:
- distance: mean distance of the map's mass from the labelled keypoint, in eye distances (the
  labelled eye centres' distance in the crop);
- near: share of the map's mass within half an eye distance of the labelled keypoint;
- correlation: mean correlation between the maps of two different keypoints of one face
  (1: every keypoint shows the same regions);
- hot vs cold: how far the keypoint moves when the Grad-CAM-hottest patch on the face is
  covered, against the coldest (patches of an eighth of the crop, centres inside the labelled
  face's extent), as `tests/test_explain.py` checks on one face.
Classic Grad-CAM (gradient averaged over the map, then ReLU or magnitude) is measured beside the
element-wise form the package uses, to show why it uses that one.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from facepoints.crop import apply_affine
from facepoints.data.landmarks import read_landmark_csv
from facepoints.explain import ExplainableModel, explain_face, occlude
from facepoints.errors import FacepointsError
from facepoints.explain.maps import gradcam, patch_corners
from facepoints.explain.model import to_tensor
from facepoints.imageio import read_image


def classic_gradcam(model: ExplainableModel, crop: np.ndarray, layer: str) -> tuple[np.ndarray, np.ndarray, float]:
    """(K, H, W) classic Grad-CAM (Selvaraju et al.) of x + y, ReLU'd and magnitude, and the size of
    its channel weights (the gradient averaged over the map) relative to the gradient itself."""
    activations = []
    hook = model.parts[0].get_submodule(layer).register_forward_hook(lambda m, i, out: activations.append(out))
    points = model.network(to_tensor(crop[None]))
    hook.remove()
    relu, magnitude, pooled, plain = [], [], 0.0, 0.0
    for k in range(points.shape[1]):
        maps = []
        for c in (0, 1):
            (grad,) = torch.autograd.grad(points[0, k, c], activations, retain_graph=True)
            weights = grad.mean((2, 3), keepdim=True)
            pooled, plain = pooled + float(weights.abs().mean()), plain + float(grad.abs().mean())
            maps.append((weights * activations[0]).sum(1)[0])
        relu.append(sum(torch.relu(m) for m in maps))
        magnitude.append(sum(m.abs() for m in maps))
    size = crop.shape[:2]
    up = lambda m: torch.nn.functional.interpolate(torch.stack(m)[None], size=size, mode="bilinear")[0]  # noqa: E731
    return up(relu).detach().numpy(), up(magnitude).detach().numpy(), pooled / plain


def mass_distances(maps: np.ndarray, labels: np.ndarray, eye_distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Per keypoint: mean distance of the map's mass from its label, and the share within half an eye distance."""
    rows, columns = np.mgrid[: maps.shape[1], : maps.shape[2]]
    distance = np.hypot(columns[None] - labels[:, 0, None, None], rows[None] - labels[:, 1, None, None]) / eye_distance
    total = maps.sum((1, 2)) + 1e-30
    return (maps * distance).sum((1, 2)) / total, (maps * (distance < 0.5)).sum((1, 2)) / total


def correlation(maps: np.ndarray) -> float:
    flat = maps.reshape(len(maps), -1)
    flat = flat[flat.std(1) > 0]
    if len(flat) < 2:  # constant maps: nothing to correlate
        return float("nan")
    corr = np.corrcoef(flat)
    return float(corr[~np.eye(len(corr), dtype=bool)].mean())


def hot_and_cold_shifts(model, crop, heat_maps, labels, patch):
    low, high = labels.min(0), labels.max(0)
    corners = [(t, l) for t, l in patch_corners(crop.shape[0], patch, 4)
               if low[0] <= l + patch / 2 <= high[0] and low[1] <= t + patch / 2 <= high[1]]
    chosen = []
    for heat in heat_maps:
        mass = [heat[t : t + patch, l : l + patch].sum() for t, l in corners]
        chosen += [corners[int(np.argmax(mass))], corners[int(np.argmin(mass))]]
    shifts = np.linalg.norm(occlude(model, crop, chosen, patch), axis=-1)  # (2K, K)
    k = np.arange(len(heat_maps))
    return shifts[2 * k, k], shifts[2 * k + 1, k]


def _finite(value: float) -> float | None:
    return round(float(value), 3) if np.isfinite(value) else None  # JSON has no NaN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", default="ibug68")
    parser.add_argument("--layers", default="decoder,encoder.stages.3", help="Grad-CAM layers, comma-separated.")
    parser.add_argument("--every", type=int, default=50, help="Use every Nth face of w300/faces.")
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the figures.")
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = ExplainableModel(args.model)
    layers = args.layers.split(",")
    samples, _ = read_landmark_csv(args.data / "w300" / "faces" / "keypoints.csv")
    samples = samples[:: args.every]
    everything = list(range(model.scheme.num_keypoints))
    results: dict[str, dict[str, list]] = {}
    hot, cold, seconds, faces, weight_ratios = [], [], [], 0, {}
    for sample in samples:
        started = time.perf_counter()
        try:
            e = explain_face(model, read_image(sample.image), everything, layers[0])
        except FacepointsError as error:  # no face found: skipped, counted
            print(error)
            continue
        seconds.append(time.perf_counter() - started)
        faces += 1
        labels = apply_affine(sample.points, e.matrix)
        eye_distance = float(np.linalg.norm(labels[36:42].mean(0) - labels[42:48].mean(0)))
        maps = {"uniform (no information)": np.ones_like(e.occlusion[:, 0]), "occlusion": e.occlusion.sum(1)}
        for layer in layers:
            maps[f"gradcam {layer}"] = gradcam(model, e.crop, layer, everything).sum(1)
            maps[f"classic_relu {layer}"], maps[f"classic_magnitude {layer}"], ratio = classic_gradcam(model, e.crop, layer)
            weight_ratios.setdefault(layer, []).append(ratio)
        for name, m in maps.items():
            distance, near = mass_distances(m, labels, eye_distance)
            r = results.setdefault(name, {"distance": [], "near": [], "correlation": []})
            r["distance"] += distance.tolist()
            r["near"] += near.tolist()
            r["correlation"].append(correlation(m))
        h, c = hot_and_cold_shifts(model, e.crop, e.gradcam.sum(1), labels, e.crop.shape[0] // 8)
        hot += h.tolist()
        cold += c.tolist()
    summary = {
        "model": args.model, "faces": faces, "keypoints": len(hot),
        "maps": {name: {"mean_mass_distance_eye_distances": round(float(np.mean(r["distance"])), 3),
                        "mass_within_half_eye_distance": round(float(np.mean(r["near"])), 3),
                        "mean_correlation_between_keypoints": _finite(np.mean(r["correlation"]))}
                 for name, r in results.items()},
        "hot_vs_cold": {"layer": layers[0], "median_hot_shift_px": round(float(np.median(hot)), 3),
                        "median_cold_shift_px": round(float(np.median(cold)), 3),
                        "share_hot_moves_more": round(float(np.mean(np.array(hot) > np.array(cold))), 3)},
        "classic_weight_over_gradient": {layer: float(f"{np.mean(r):.3g}") for layer, r in weight_ratios.items()},
        "explain_seconds_per_face_median": round(float(np.median(seconds)), 2),
    }
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
