"""Where a keypoint's x and y come from: a gradient map (Grad-CAM) and a gradient-free one (occlusion).

Grad-CAM is taken in its element-wise form (HiResCAM, Draelos & Carin 2020): at each position of
a layer, the activations times the coordinate's gradient, summed over channels. Classic Grad-CAM
weights each channel by its gradient averaged over the map. For a soft-argmax coordinate that
average is zero at the layer feeding the heatmap head (dx/dlogit_j = p_j (x_j - x) sums to zero
over j), so the classic weights there are rounding noise; at a deeper layer its maps hold no more mass near the keypoint than a uniform map
(docs/benchmarks.md). The magnitude is kept because a coordinate has no "evidence for" sign:
features that push it either way matter.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from facepoints.explain.model import ExplainableModel, to_tensor


def gradcam(model: ExplainableModel, crop: np.ndarray, layer: str, keypoints: list[int]) -> np.ndarray:
    """(len(keypoints), 2, H, W) maps of the crop for each keypoint's x and y output at ``layer``.

    With several networks inside (ensembles), each one's map at its layer of that name is added."""
    model.check_layer(layer)
    activations: list[torch.Tensor] = []
    hooks = [part.get_submodule(layer).register_forward_hook(lambda module, inputs, out: activations.append(out))
             for part in model.parts]
    try:
        points = model.network(to_tensor(crop[None]).requires_grad_())
    finally:
        for hook in hooks:
            hook.remove()
    maps = []
    for k in keypoints:
        for c in (0, 1):
            grads = torch.autograd.grad(points[0, k, c], activations, retain_graph=True, allow_unused=True)
            cam = torch.zeros(1, *activations[0].shape[-2:])  # stays 0 where a network does not give k
            for grad, activation in zip(grads, activations):
                if grad is not None:
                    cam = cam + (grad * activation).sum(1)
            maps.append(cam.detach().abs())
    cams = F.interpolate(torch.stack(maps), size=crop.shape[:2], mode="bilinear", align_corners=False)
    return cams.view(len(keypoints), 2, *crop.shape[:2]).numpy()


def patch_corners(size: int, patch: int, stride: int) -> list[tuple[int, int]]:
    """(top, left) of patches tiling a size x size crop, the last row and column flush with its edge."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return [(top, left) for top in starts for left in starts]


@torch.no_grad()
def occlude(model: ExplainableModel, crop: np.ndarray, corners: list[tuple[int, int]], patch: int,
            batch_size: int = 64) -> np.ndarray:
    """(len(corners), K, 2): how each keypoint moves, in crop pixels, when one square patch is covered.

    The patch is filled with the crop's mean colour: it hides the structure under it without
    bringing in a colour the face does not have."""
    image = to_tensor(crop[None])
    fill = image.mean((2, 3), keepdim=True)
    clean = model.network(image)
    shifts = []
    for start in range(0, len(corners), batch_size):
        batch = image.repeat(len(corners[start : start + batch_size]), 1, 1, 1)
        for b, (top, left) in enumerate(corners[start : start + batch_size]):
            batch[b, :, top : top + patch, left : left + patch] = fill[0]
        shifts.append(model.network(batch) - clean)
    return torch.cat(shifts).numpy()


def occlusion(model: ExplainableModel, crop: np.ndarray, keypoints: list[int], patch: int | None = None,
              stride: int | None = None) -> np.ndarray:
    """(len(keypoints), 2, H, W): at each pixel, the mean |shift| of x and y over the patches covering it.

    Defaults: patches an eighth of the crop wide (about an eye), overlapping by half."""
    size = crop.shape[0]
    patch = patch or size // 8
    corners = patch_corners(size, patch, stride or max(1, patch // 2))
    shifts = np.abs(occlude(model, crop, corners, patch)[:, keypoints])  # (P, k, 2)
    total = np.zeros((len(keypoints), 2, size, size), np.float32)
    count = np.zeros((size, size), np.float32)
    for (top, left), shift in zip(corners, shifts):
        total[:, :, top : top + patch, left : left + patch] += shift[:, :, None, None]
        count[top : top + patch, left : left + patch] += 1
    return total / count
