"""Keypoint-aware augmentation on batched torch tensors, on whatever device the batch is on.

Conventions:

* images: (N, C, H, W) float in [0, 1]; points: (N, K, 2) (x, y); mask: (N, K) bool.
* Pixel frame: the top-left pixel's centre is (0, 0), so an image spans [-0.5, W - 0.5] in x.
* A geometric transform is a (N, 2, 3) matrix A mapping *source* pixel coordinates to
  *destination* pixel coordinates: p' = A[:, :, :2] @ p + A[:, :, 2]. Images and points are moved
  by the same matrices, so points follow pixels exactly.
* Labels may sit in a frame offset from pixel centres (label = pixel + origin_offset, e.g. 1-based
  data sets); point functions take that offset so they warp labels without first converting them.

Random draws come from ``generator`` on the generator's own device and are then moved to the
batch's device: a CPU generator gives the same augmentation on every device, a generator on the
batch's device avoids the copies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from facepoints.flip import mirror_points

OriginOffset = float | Tensor
FlipPermutation = Sequence[int] | np.ndarray | Tensor

PADDING_MODES = ("zeros", "border", "reflection")


# --- random draws ------------------------------------------------------------------------------


def _uniform(
    shape: tuple[int, ...],
    low: float | Tensor,
    high: float | Tensor,
    generator: torch.Generator | None,
    device: torch.device | str | None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Uniform draws on ``device``, drawn where the generator lives (see module docstring)."""
    source = generator.device if generator is not None else device
    unit = torch.rand(shape, generator=generator, device=source, dtype=dtype).to(device)
    return low + (high - low) * unit


def _normal(
    shape: tuple[int, ...],
    generator: torch.Generator | None,
    device: torch.device | str | None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    source = generator.device if generator is not None else device
    return torch.randn(shape, generator=generator, device=source, dtype=dtype).to(device)


def _bernoulli(
    n: int, prob: float, generator: torch.Generator | None, device: torch.device | str | None
) -> Tensor:
    return _uniform((n,), 0.0, 1.0, generator, device) < prob


# --- geometry ----------------------------------------------------------------------------------


def image_centre(height: int, width: int) -> tuple[float, float]:
    """(x, y) of the image centre in the pixel frame."""
    return (width - 1) / 2, (height - 1) / 2


def affine_about_centre(linear: Tensor, shift: Tensor, height: int, width: int) -> Tensor:
    """(N, 2, 3) matrices applying ``linear`` (N, 2, 2) about the image centre, then ``shift``."""
    cx, cy = image_centre(height, width)
    # centre + shift - linear @ centre, from Python scalars: a constant tensor made on a GPU
    # is copied from host memory, which waits for every kernel already queued.
    moved_centre = linear[..., 0] * cx + linear[..., 1] * cy
    translation = shift - moved_centre + torch.stack(
        [torch.full_like(shift[..., 0], cx), torch.full_like(shift[..., 1], cy)], dim=-1)
    return torch.cat([linear, translation[..., None]], dim=-1)


def invert_affine(matrices: Tensor) -> Tensor:
    """Inverse transforms: destination back to source (closed form: linalg.inv checks for
    singular matrices on the host, a GPU sync on every call)."""
    a, b = matrices[..., 0, 0], matrices[..., 0, 1]
    c, d = matrices[..., 1, 0], matrices[..., 1, 1]
    det = a * d - b * c
    linear_inverse = torch.stack([d, -b, -c, a], dim=-1).unflatten(-1, (2, 2)) / det[..., None, None]
    translation = -(linear_inverse @ matrices[..., 2:])
    return torch.cat([linear_inverse, translation], dim=-1)


def _linear_parts(angle: Tensor, scale: Tensor, shear: Tensor, flip_sign: Tensor) -> Tensor:
    """(N, 2, 2) rotation @ shear @ scale @ mirror, angles in radians."""
    cos, sin = angle.cos(), angle.sin()
    zeros, ones = torch.zeros_like(angle), torch.ones_like(angle)
    rotation = torch.stack([cos, -sin, sin, cos], dim=-1).view(-1, 2, 2)
    shearing = torch.stack([ones, shear.tan(), zeros, ones], dim=-1).view(-1, 2, 2)
    scale_and_mirror = torch.stack([scale * flip_sign, zeros, zeros, scale], dim=-1).view(-1, 2, 2)
    return rotation @ shearing @ scale_and_mirror


def sample_affine(
    n: int,
    height: int,
    width: int,
    *,
    rotation_deg: float = 0.0,
    scale: tuple[float, float] = (1.0, 1.0),
    shift_frac: float = 0.0,
    shear_deg: float = 0.0,
    flip_prob: float = 0.0,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor]:
    """Random (N, 2, 3) source-to-destination matrices and the (N,) bool flags of mirrored rows.

    About the image centre, applied in this order: horizontal mirror with probability
    ``flip_prob``; isotropic scale uniform in ``scale`` = (min, max), > 1 enlarges the content;
    x-shear by an angle uniform in ±``shear_deg``; rotation uniform in ±``rotation_deg`` (positive
    turns clockwise on screen, y pointing down); then a shift uniform in ±``shift_frac`` of the
    width (x) and of the height (y).
    """
    draws = _uniform((n, 6), 0.0, 1.0, generator, device)
    signed = 2.0 * draws - 1.0
    angle = torch.deg2rad(rotation_deg * signed[:, 0])
    zoom = scale[0] + (scale[1] - scale[0]) * draws[:, 1]
    shift = shift_frac * torch.stack([signed[:, 2] * width, signed[:, 3] * height], dim=-1)
    shear = torch.deg2rad(shear_deg * signed[:, 4])
    flipped = draws[:, 5] < flip_prob
    flip_sign = 1.0 - 2.0 * flipped.float()
    linear = _linear_parts(angle, zoom, shear, flip_sign)
    return affine_about_centre(linear, shift, height, width), flipped


def _to_normalised_frame(matrices: Tensor, height: int, width: int) -> Tensor:
    """Pixel-frame (N, 2, 3) matrices re-expressed in grid_sample's [-1, 1] frame.

    With align_corners=False, pixel p maps to q = s p + o per axis (s = 2 / size,
    o = 1 / size - 1), so M p + t becomes (S M S^-1) q + S t + o - S M S^-1 o.
    """
    scale = (2.0 / width, 2.0 / height)
    origin = (1.0 / width - 1.0, 1.0 / height - 1.0)
    rows = []
    for i in range(2):
        linear = [matrices[..., i, j] * (scale[i] / scale[j]) for j in range(2)]
        shift = scale[i] * matrices[..., i, 2] + origin[i] - linear[0] * origin[0] - linear[1] * origin[1]
        rows.append(torch.stack([*linear, shift], dim=-1))
    return torch.stack(rows, dim=-2)


def warp_images(images: Tensor, matrices: Tensor, padding_mode: str = "border") -> Tensor:
    """Bilinear resampling so that the content at source pixel p appears at destination A p.

    grid_sample looks up, for every destination pixel, where to read in the source, so the
    matrices are inverted and expressed in its [-1, 1] frame.
    """
    n, channels, height, width = images.shape
    theta = _to_normalised_frame(invert_affine(matrices.to(images.dtype)), height, width)
    grid = F.affine_grid(theta, [n, channels, height, width], align_corners=False)
    return F.grid_sample(
        images, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False
    )


def _offset_tensor(origin_offset: OriginOffset, like: Tensor) -> Tensor:
    """The offset as a tensor on ``like``'s device, keeping its autograd graph."""
    if isinstance(origin_offset, Tensor):
        return origin_offset.to(device=like.device, dtype=like.dtype)
    return torch.tensor(origin_offset, device=like.device, dtype=like.dtype)


def warp_points(points: Tensor, matrices: Tensor, origin_offset: OriginOffset = 0.0) -> Tensor:
    """A(p - o) + o: moves labels given in a frame offset by o from the pixel frame.

    ``matrices`` (N, 2, 3) or (1, 2, 3) broadcast over the batch; o is a float or a 0-dim or
    (2,) tensor, and gradients reach it.
    """
    offset = _offset_tensor(origin_offset, points)
    matrices = matrices.to(points.dtype)
    pixels = points - offset
    moved = pixels @ matrices[..., :2].transpose(-1, -2) + matrices[..., None, :, 2]
    return moved + offset


def inside_image(
    points: Tensor, height: int, width: int, origin_offset: OriginOffset = 0.0
) -> Tensor:
    """(N, K) bool: the point lies on the image, whose extent is [-0.5, size - 0.5] per axis."""
    pixels = points.detach() - _offset_tensor(origin_offset, points).detach()
    x, y = pixels.unbind(-1)
    return (x >= -0.5) & (x <= width - 0.5) & (y >= -0.5) & (y <= height - 0.5)


def _permutation_tensor(flip_permutation: FlipPermutation, device: torch.device) -> Tensor:
    if isinstance(flip_permutation, Tensor):
        return flip_permutation.to(device=device, dtype=torch.long)
    return torch.as_tensor(np.asarray(flip_permutation), dtype=torch.long, device=device)


def swap_flipped(
    points: Tensor, mask: Tensor, flipped: Tensor, flip_permutation: FlipPermutation
) -> tuple[Tensor, Tensor]:
    """Reorder mirrored rows by the scheme's flip permutation.

    After a mirror the subject's left eye shows where the right eye was, so the point warped from
    the right-eye slot must move to the left-eye slot (and its mask with it).
    """
    perm = _permutation_tensor(flip_permutation, points.device)
    points = torch.where(flipped[:, None, None], points[:, perm], points)
    mask = torch.where(flipped[:, None], mask[:, perm], mask)
    return points, mask


def hflip_images(images: Tensor) -> Tensor:
    """Mirror images left-right (exactly, no resampling)."""
    return images.flip(-1)


def hflip_points(
    points: Tensor, width: int, flip_permutation: FlipPermutation, origin_offset: OriginOffset = 0.0
) -> Tensor:
    """Mirror points to match ``hflip_images`` and swap left/right slots; its own inverse
    (flip.mirror_points, the one definition the runtime's flip test shares)."""
    offset = _offset_tensor(origin_offset, points) if isinstance(origin_offset, Tensor) else origin_offset
    return mirror_points(points, width, _permutation_tensor(flip_permutation, points.device), offset)


# --- photometric (points unchanged) ------------------------------------------------------------


def _per_sample(values: Tensor) -> Tensor:
    """(N,) -> (N, 1, 1, 1), to broadcast over images."""
    return values.view(-1, 1, 1, 1)


def adjust_brightness_contrast(images: Tensor, brightness: Tensor, contrast: Tensor) -> Tensor:
    """Scale each image about its mean by ``contrast`` (N,), then add ``brightness`` (N,)."""
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    adjusted = (images - mean) * _per_sample(contrast) + mean + _per_sample(brightness)
    return adjusted.clamp(0.0, 1.0)


def gaussian_blur(images: Tensor, sigma: Tensor, kernel_radius: int) -> Tensor:
    """Separable Gaussian blur with a per-image ``sigma`` (N,); sigma 0 leaves an image as is.

    One grouped convolution serves the whole batch: every (image, channel) plane is a group with
    its own kernel. Edges are replicated so borders do not darken.
    """
    n, channels, height, width = images.shape
    offsets = torch.arange(
        -kernel_radius, kernel_radius + 1, device=images.device, dtype=images.dtype
    )
    spread = sigma.to(images.dtype).clamp_min(1e-3)[:, None]
    kernels = torch.exp(-0.5 * (offsets / spread) ** 2)
    kernels = (kernels / kernels.sum(dim=1, keepdim=True)).repeat_interleave(channels, dim=0)
    planes = images.reshape(1, n * channels, height, width)
    padded = F.pad(planes, [kernel_radius] * 4, mode="replicate")
    rows = F.conv2d(padded, kernels[:, None, None, :], groups=n * channels)
    blurred = F.conv2d(rows, kernels[:, None, :, None], groups=n * channels)
    return blurred.reshape(n, channels, height, width)


def add_gaussian_noise(
    images: Tensor, std: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """Add pixel-independent Gaussian noise of per-image ``std`` (N,)."""
    noise = _normal(tuple(images.shape), generator, images.device, images.dtype)
    return (images + _per_sample(std) * noise).clamp(0.0, 1.0)


def _span_mask(start: Tensor, stop: Tensor, size: int) -> Tensor:
    """(N, size) bool: pixel centres (i + 0.5 in edge coordinates) inside [start, stop)."""
    centres = torch.arange(size, device=start.device, dtype=start.dtype) + 0.5
    return (centres >= start[:, None]) & (centres < stop[:, None])


def occlude(images: Tensor, boxes: Tensor, fill: Tensor) -> Tensor:
    """Replace one rectangle per image with ``fill``.

    boxes: (N, 4) x0, y0, x1, y1 in pixel-edge units ([0, W] across the image; an empty box
    occludes nothing); fill: anything that broadcasts to the images.
    """
    _, _, height, width = images.shape
    columns = _span_mask(boxes[:, 0], boxes[:, 2], width)
    rows = _span_mask(boxes[:, 1], boxes[:, 3], height)
    inside = (rows[:, :, None] & columns[:, None, :])[:, None]
    return torch.where(inside, fill.to(images.dtype), images)


def random_brightness_contrast(
    images: Tensor,
    brightness: float,
    contrast: float,
    prob: float,
    generator: torch.Generator | None = None,
) -> Tensor:
    """With probability ``prob`` per image: add ±``brightness``; scale contrast by 1 ±``contrast``
    about the image mean."""
    n = images.shape[0]
    applied = _bernoulli(n, prob, generator, images.device)
    delta = _uniform((n,), -brightness, brightness, generator, images.device, images.dtype)
    factor = _uniform((n,), 1.0 - contrast, 1.0 + contrast, generator, images.device, images.dtype)
    return adjust_brightness_contrast(
        images, torch.where(applied, delta, 0.0), torch.where(applied, factor, 1.0)
    )


def random_blur(
    images: Tensor,
    sigma_range: tuple[float, float],
    prob: float,
    generator: torch.Generator | None = None,
) -> Tensor:
    """With probability ``prob`` per image: Gaussian blur with sigma uniform in ``sigma_range``."""
    n = images.shape[0]
    applied = _bernoulli(n, prob, generator, images.device)
    sigma = _uniform((n,), *sigma_range, generator, images.device, images.dtype)
    radius = max(1, math.ceil(3 * sigma_range[1]))
    return gaussian_blur(images, torch.where(applied, sigma, 0.0), radius)


def random_noise(
    images: Tensor,
    std_range: tuple[float, float],
    prob: float,
    generator: torch.Generator | None = None,
) -> Tensor:
    """With probability ``prob`` per image: Gaussian noise with std uniform in ``std_range``."""
    n = images.shape[0]
    applied = _bernoulli(n, prob, generator, images.device)
    std = _uniform((n,), *std_range, generator, images.device, images.dtype)
    return add_gaussian_noise(images, torch.where(applied, std, 0.0), generator)


def _random_boxes(
    n: int,
    height: int,
    width: int,
    area_range: tuple[float, float],
    aspect_range: tuple[float, float],
    generator: torch.Generator | None,
    device: torch.device,
) -> Tensor:
    """(N, 4) boxes covering a fraction of the image in ``area_range``, width/height log-uniform
    in ``aspect_range``, placed uniformly where they fit."""
    area = _uniform((n,), *area_range, generator, device) * height * width
    log_aspect = _uniform((n,), *map(math.log, aspect_range), generator, device)
    box_width = (area * log_aspect.exp()).sqrt().clamp(1.0, width)
    box_height = (area / log_aspect.exp()).sqrt().clamp(1.0, height)
    x0 = _uniform((n,), 0.0, 1.0, generator, device) * (width - box_width)
    y0 = _uniform((n,), 0.0, 1.0, generator, device) * (height - box_height)
    return torch.stack([x0, y0, x0 + box_width, y0 + box_height], dim=-1)


def random_occlusion(
    images: Tensor,
    area_range: tuple[float, float],
    aspect_range: tuple[float, float],
    noise_prob: float,
    prob: float,
    generator: torch.Generator | None = None,
) -> Tensor:
    """With probability ``prob`` per image: one rectangle (random erasing) filled with uniform
    noise (probability ``noise_prob``) or else a random flat grey, so the model learns to place
    points it cannot see from the rest of the face."""
    n, _, height, width = images.shape
    applied = _bernoulli(n, prob, generator, images.device)
    boxes = _random_boxes(n, height, width, area_range, aspect_range, generator, images.device)
    boxes = torch.where(applied[:, None], boxes, 0.0)
    noisy = _per_sample(_bernoulli(n, noise_prob, generator, images.device))
    grey = _per_sample(_uniform((n,), 0.0, 1.0, generator, images.device, images.dtype))
    noise = _uniform(tuple(images.shape), 0.0, 1.0, generator, images.device, images.dtype)
    return occlude(images, boxes, torch.where(noisy, noise, grey))


def random_point_occlusion(
    images: Tensor,
    pixels: Tensor,
    mask: Tensor,
    area_range: tuple[float, float],
    prob: float,
    generator: torch.Generator | None = None,
) -> Tensor:
    """With probability ``prob`` per image: a square of a fraction of the image in ``area_range``
    centred on one of its labelled points (``pixels`` in the pixel frame), chosen uniformly, filled
    with a random flat grey: a hand, a strand of hair or sunglasses over an eye or the mouth."""
    n, _, height, width = images.shape
    counts = mask.sum(1)
    applied = _bernoulli(n, prob, generator, images.device) & (counts > 0)
    # the k-th labelled point, k uniform in [0, count): no host sync, so it runs inside a graph
    k = (_uniform((n,), 0.0, 1.0, generator, images.device) * counts).floor()
    chosen = (mask.cumsum(1) <= k[:, None]).sum(1).clamp(max=mask.shape[1] - 1)
    centre = pixels.gather(1, chosen[:, None, None].expand(n, 1, 2))[:, 0] + 0.5  # pixel edges
    half = (_uniform((n,), *area_range, generator, images.device) * height * width).sqrt() / 2
    boxes = torch.cat([centre - half[:, None], centre + half[:, None]], dim=-1)
    boxes = torch.where(applied[:, None], boxes, 0.0)
    grey = _per_sample(_uniform((n,), 0.0, 1.0, generator, images.device, images.dtype))
    return occlude(images, boxes, grey)


# --- configuration and the per-batch call ------------------------------------------------------


@dataclass(frozen=True)
class AugmentConfig:
    """Every augmentation knob; a probability or amplitude of 0 disables that augmentation.

    Geometry (see ``sample_affine``): rotation_deg, scale as a (min, max) range, shift_frac,
    shear_deg, flip_prob; padding_mode fills what the warp uncovers. Photometry, each applied per
    image with its own probability: brightness (± additive), contrast (factor 1 ± contrast),
    blur sigma range, noise std range, one occluding rectangle with an area fraction range and a
    width/height aspect range, filled with noise with probability occlusion_noise_prob, and one
    occluding square centred on a labelled point (point_occlusion_*).
    """

    rotation_deg: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    shift_frac: float = 0.0
    shear_deg: float = 0.0
    flip_prob: float = 0.0
    padding_mode: str = "border"
    brightness_contrast_prob: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    blur_prob: float = 0.0
    blur_sigma: tuple[float, float] = (0.3, 1.2)
    noise_prob: float = 0.0
    noise_std: tuple[float, float] = (0.005, 0.03)
    occlusion_prob: float = 0.0
    occlusion_area: tuple[float, float] = (0.02, 0.1)
    occlusion_aspect: tuple[float, float] = (0.5, 2.0)
    occlusion_noise_prob: float = 0.5
    point_occlusion_prob: float = 0.0
    point_occlusion_area: tuple[float, float] = (0.02, 0.06)

    def __post_init__(self):
        for name in ("flip_prob", "brightness_contrast_prob", "blur_prob", "noise_prob",
                     "occlusion_prob", "occlusion_noise_prob", "point_occlusion_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1]")
        for name in ("rotation_deg", "shift_frac", "shear_deg", "brightness", "contrast"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for name in ("scale", "blur_sigma", "noise_std", "occlusion_area", "occlusion_aspect", "point_occlusion_area"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name} must be a range (min, max) with 0 <= min <= max")
        if self.scale[0] <= 0 or self.occlusion_aspect[0] <= 0:
            raise ValueError("scale and occlusion_aspect must be positive")
        if self.padding_mode not in PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {', '.join(PADDING_MODES)}")

    @property
    def moves_points(self) -> bool:
        return (
            self.rotation_deg > 0 or self.scale != (1.0, 1.0) or self.shift_frac > 0
            or self.shear_deg > 0 or self.flip_prob > 0
        )


AUGMENT_PRESETS: dict[str, AugmentConfig] = {
    "none": AugmentConfig(),
    "flip": AugmentConfig(flip_prob=0.5),
    "flip_brightness": AugmentConfig(
        flip_prob=0.5, brightness_contrast_prob=0.8, brightness=0.15, contrast=0.2
    ),
    "full": AugmentConfig(
        rotation_deg=15.0, scale=(0.9, 1.1), shift_frac=0.05, shear_deg=5.0, flip_prob=0.5,
        brightness_contrast_prob=0.8, brightness=0.15, contrast=0.2,
        blur_prob=0.2, blur_sigma=(0.3, 1.2),
        noise_prob=0.3, noise_std=(0.005, 0.03),
        occlusion_prob=0.25, occlusion_area=(0.02, 0.1),
    ),
    # Photos framed by a detector: wider pose and framing jitter, blur for small upscaled faces.
    "photo": AugmentConfig(
        rotation_deg=30.0, scale=(0.8, 1.2), shift_frac=0.08, shear_deg=5.0, flip_prob=0.5,
        brightness_contrast_prob=0.8, brightness=0.2, contrast=0.3,
        blur_prob=0.3, blur_sigma=(0.3, 2.0),
        noise_prob=0.3, noise_std=(0.005, 0.04),
        occlusion_prob=0.3, occlusion_area=(0.02, 0.12),
    ),
}
# Faces at any angle: "photo" with in-plane turns to +-60 degrees, wider scale, and a square over a
# labelled point (an eye, the mouth, ...) on a third of the faces.
AUGMENT_PRESETS["pose"] = replace(
    AUGMENT_PRESETS["photo"], rotation_deg=60.0, scale=(0.7, 1.25), shear_deg=8.0,
    point_occlusion_prob=0.35, point_occlusion_area=(0.02, 0.06),
)


def _augment_geometry(
    images: Tensor,
    points: Tensor,
    mask: Tensor,
    config: AugmentConfig,
    flip_permutation: FlipPermutation,
    origin_offset: OriginOffset,
    generator: torch.Generator | None,
) -> tuple[Tensor, Tensor, Tensor]:
    n, _, height, width = images.shape
    matrices, flipped = sample_affine(
        n, height, width, rotation_deg=config.rotation_deg, scale=config.scale,
        shift_frac=config.shift_frac, shear_deg=config.shear_deg, flip_prob=config.flip_prob,
        generator=generator, device=images.device,
    )
    images = warp_images(images, matrices, config.padding_mode)
    points = warp_points(points, matrices, origin_offset)
    points, mask = swap_flipped(points, mask, flipped, flip_permutation)
    mask = mask & inside_image(points, height, width, origin_offset)
    return images, torch.where(mask[..., None], points, 0.0), mask


def _augment_photometry(
    images: Tensor, config: AugmentConfig, generator: torch.Generator | None
) -> Tensor:
    if config.brightness_contrast_prob > 0 and (config.brightness > 0 or config.contrast > 0):
        images = random_brightness_contrast(
            images, config.brightness, config.contrast, config.brightness_contrast_prob, generator
        )
    if config.blur_prob > 0 and config.blur_sigma[1] > 0:
        images = random_blur(images, config.blur_sigma, config.blur_prob, generator)
    if config.noise_prob > 0 and config.noise_std[1] > 0:
        images = random_noise(images, config.noise_std, config.noise_prob, generator)
    if config.occlusion_prob > 0 and config.occlusion_area[1] > 0:
        images = random_occlusion(
            images, config.occlusion_area, config.occlusion_aspect,
            config.occlusion_noise_prob, config.occlusion_prob, generator,
        )
    return images


def augment_batch(
    images: Tensor,
    points: Tensor,
    mask: Tensor,
    config: AugmentConfig,
    flip_permutation: FlipPermutation,
    *,
    origin_offset: OriginOffset = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Augment one training batch: the single call the trainer makes, on the batch's device.

    Points (in the label frame given by ``origin_offset``) follow the warp; points that leave the
    image are masked out, and unlabelled points are 0, as in ``KeypointSet``.
    """
    if config.moves_points:
        images, points, mask = _augment_geometry(
            images, points, mask, config, flip_permutation, origin_offset, generator
        )
    images = _augment_photometry(images, config, generator)
    if config.point_occlusion_prob > 0 and config.point_occlusion_area[1] > 0:
        pixels = points.detach() - _offset_tensor(origin_offset, points).detach()
        images = random_point_occlusion(images, pixels, mask, config.point_occlusion_area,
                                        config.point_occlusion_prob, generator)
    return images, points, mask
