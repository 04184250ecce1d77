"""Property tests: points follow pixels through every geometric transform, flips swap names,
photometry leaves points alone."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from facepoints.schemes import FKD15, IBUG68
from facepoints.transforms import (
    AUGMENT_PRESETS,
    AugmentConfig,
    augment_batch,
    hflip_images,
    hflip_points,
    inside_image,
    random_blur,
    random_brightness_contrast,
    random_noise,
    random_occlusion,
    sample_affine,
    swap_flipped,
    warp_images,
    warp_points,
)

torch.set_num_threads(1)

SIZES = [(96, 96), (80, 120)]  # (height, width): square and non-square
BLOB_SIGMA = 2.0
BLOB_MARGIN = 5 * BLOB_SIGMA  # a blob this far inside the edges is whole in the image

# Wide ranges, so a wrong sign, axis or half-pixel in any transform shows.
GEOMETRY = {
    "rotation": dict(rotation_deg=180.0),
    "scale": dict(scale=(0.75, 1.3)),
    "shift": dict(shift_frac=0.15),
    "shear": dict(shear_deg=20.0),
    "flip": dict(flip_prob=1.0),
    "combined": dict(
        rotation_deg=180.0, scale=(0.75, 1.3), shift_frac=0.15, shear_deg=20.0, flip_prob=0.5
    ),
}


def hflip_matrices(n: int, width: int) -> torch.Tensor:
    """(N, 2, 3) matrices of the horizontal mirror x' = (W - 1) - x."""
    return torch.tensor([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0]]).expand(n, 2, 3).clone()


def blobs(points: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(N, 1, H, W) images with one Gaussian blob centred on each (N, 2) pixel-frame point."""
    ys = torch.arange(height, dtype=torch.float32)[:, None]
    xs = torch.arange(width, dtype=torch.float32)[None, :]
    dx = xs - points[:, 0, None, None]
    dy = ys - points[:, 1, None, None]
    return torch.exp(-(dx**2 + dy**2) / (2 * BLOB_SIGMA**2))[:, None]


def centroids(images: torch.Tensor) -> torch.Tensor:
    """(N, 2) intensity-weighted centroid (x, y) of (N, 1, H, W) images in the pixel frame."""
    _, _, height, width = images.shape
    weights = images[:, 0]
    total = weights.sum(dim=(1, 2))
    x = (weights.sum(dim=1) * torch.arange(width)).sum(dim=1) / total
    y = (weights.sum(dim=2) * torch.arange(height)).sum(dim=1) / total
    return torch.stack([x, y], dim=-1)


def well_inside(points: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(N,) bool: (N, 2) points at least BLOB_MARGIN from every edge."""
    upper = torch.tensor([width - 1 - BLOB_MARGIN, height - 1 - BLOB_MARGIN])
    return ((points >= BLOB_MARGIN) & (points <= upper)).all(dim=-1)


def random_points(n: int, height: int, width: int, generator: torch.Generator) -> torch.Tensor:
    """(N, 2) points uniform over the region where a blob fits."""
    low = torch.tensor([BLOB_MARGIN, BLOB_MARGIN])
    high = torch.tensor([width - 1 - BLOB_MARGIN, height - 1 - BLOB_MARGIN])
    return low + (high - low) * torch.rand(n, 2, generator=generator)


def is_identity(matrices: torch.Tensor) -> torch.Tensor:
    identity = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return torch.isclose(matrices, identity, atol=1e-6).flatten(1).all(dim=1)


@pytest.mark.parametrize("height, width", SIZES)
@pytest.mark.parametrize("transform", list(GEOMETRY))
def test_blob_centroid_follows_warp_points(transform, height, width):
    generator = torch.Generator().manual_seed(list(GEOMETRY).index(transform) * 1000 + width)
    n = 200
    matrices, _ = sample_affine(n, height, width, generator=generator, **GEOMETRY[transform])
    assert not is_identity(matrices).any()

    source = random_points(n, height, width, generator)
    expected = warp_points(source[:, None], matrices)[:, 0]
    keep = well_inside(expected, height, width)
    assert keep.sum() >= n // 4

    warped = warp_images(blobs(source[keep], height, width), matrices[keep])
    error = (centroids(warped) - expected[keep]).norm(dim=-1)
    assert error.max() < 0.1


@pytest.mark.parametrize("height, width", SIZES)
def test_augment_batch_points_follow_pixels_and_names(height, width):
    """End to end: a blob drawn at keypoint k lands where augment_batch puts the point that
    names the same body part (slot k, or its flip partner's slot when mirrored)."""
    generator = torch.Generator().manual_seed(7)
    n, k = 64, FKD15.num_keypoints
    eye = FKD15.index("right_eye_center")
    points = random_points(n * k, height, width, generator).view(n, k, 2)
    mask = torch.ones(n, k, dtype=torch.bool)
    images = blobs(points[:, eye], height, width)
    config = AugmentConfig(**GEOMETRY["combined"])

    out_images, out_points, out_mask = augment_batch(
        images, points, mask, config, FKD15.flip_permutation(), generator=generator
    )
    found = centroids(out_images)
    partner = FKD15.index("left_eye_center")
    # The blob marks the subject's right eye: it is in the right-eye slot unless mirrored.
    distance_same = (found - out_points[:, eye]).norm(dim=-1)
    distance_partner = (found - out_points[:, partner]).norm(dim=-1)
    usable = well_inside(found, height, width) & out_mask[:, eye] & out_mask[:, partner]
    matched = torch.minimum(distance_same, distance_partner)[usable]
    assert usable.sum() >= n // 4 and matched.max() < 0.1
    mirrored = (distance_partner < distance_same)[usable]
    assert 0 < mirrored.sum() < usable.sum()  # both branches exercised


def test_sample_affine_parameter_semantics():
    generator = torch.Generator().manual_seed(1)
    height, width, n = 80, 120, 500
    centre = torch.tensor([[(width - 1) / 2, (height - 1) / 2]])

    def draw(**kwargs):
        return sample_affine(n, height, width, generator=generator, **kwargs)

    rotation, _ = draw(rotation_deg=30.0)
    angle = torch.rad2deg(torch.atan2(rotation[:, 1, 0], rotation[:, 0, 0]))
    assert angle.abs().max() <= 30.0 + 1e-4 and angle.abs().max() > 25.0
    assert torch.allclose(torch.linalg.det(rotation[:, :, :2]), torch.ones(n), atol=1e-5)
    assert torch.allclose(warp_points(centre[None].expand(n, 1, 2), rotation)[:, 0], centre)

    scaled, _ = draw(scale=(0.8, 1.2))
    zoom = scaled[:, 0, 0]
    assert zoom.min() >= 0.8 - 1e-6 and zoom.max() <= 1.2 + 1e-6
    assert torch.allclose(scaled[:, 1, 1], zoom) and scaled[:, 0, 1].abs().max() == 0

    shifted, _ = draw(shift_frac=0.1)
    assert torch.allclose(shifted[:, :, :2], torch.eye(2).expand(n, 2, 2))
    assert shifted[:, 0, 2].abs().max() <= 0.1 * width + 1e-4
    assert shifted[:, 1, 2].abs().max() <= 0.1 * height + 1e-4
    assert shifted[:, 0, 2].abs().max() > 0.1 * height  # x uses the (larger) width

    flips, flipped = draw(flip_prob=1.0)
    assert flipped.all() and torch.allclose(flips, hflip_matrices(n, width))
    none, not_flipped = draw(flip_prob=0.0, rotation_deg=10.0)
    assert not not_flipped.any() and (torch.linalg.det(none[:, :, :2]) > 0).all()
    _, half = draw(flip_prob=0.5)
    assert 0.4 < half.float().mean() < 0.6


def test_warp_images_with_mirror_matrix_equals_exact_flip():
    images = torch.rand(3, 2, 80, 120, generator=torch.Generator().manual_seed(2))
    warped = warp_images(images, hflip_matrices(3, 120))
    # float32 grid coordinates are ~1e-5 px off the pixel centres
    assert torch.allclose(warped, hflip_images(images), atol=1e-4)


@pytest.mark.parametrize("offset", [(1.0, 1.0), (0.5, -2.0)])
def test_origin_offset_shifts_the_frame_and_receives_gradient(offset):
    generator = torch.Generator().manual_seed(3)
    matrices, _ = sample_affine(
        8, 96, 96, rotation_deg=30.0, scale=(0.8, 1.2), shift_frac=0.1, generator=generator
    )
    points = 96 * torch.rand(8, 5, 2, generator=generator)
    origin = torch.tensor(offset, requires_grad=True)

    in_label_frame = warp_points(points + origin, matrices, origin)
    assert torch.allclose(in_label_frame, warp_points(points, matrices) + origin, atol=1e-4)

    # d/do [A(p - o) + o] = I - L: zero only if every matrix were a pure shift.
    warp_points(points, matrices, origin).sum().backward()
    linear = matrices[:, :, :2]
    expected = (5 * (torch.eye(2) - linear)).sum(dim=(0, 1))
    assert origin.grad is not None and torch.allclose(origin.grad, expected, atol=1e-3)


def test_origin_offset_accepts_float_and_scalar_tensor():
    matrices = hflip_matrices(2, 96)
    points = torch.rand(2, 4, 2) * 96
    as_float = warp_points(points, matrices, 1.0)
    scalar = torch.tensor(1.0, requires_grad=True)
    assert torch.allclose(warp_points(points, matrices, scalar), as_float)
    assert torch.allclose(as_float[..., 0], 96 + 1 - points[..., 0])  # (W-1) - (x-1) + 1


def face_points(n: int) -> torch.Tensor:
    """FKD15-like points: subject's left-side parts on the image's right."""
    generator = torch.Generator().manual_seed(4)
    base = torch.rand(FKD15.num_keypoints, 2, generator=generator) * 80 + 8
    return base.expand(n, -1, -1).clone()


def test_flip_swaps_names_per_scheme():
    width = 96
    points = face_points(2)
    flipped = hflip_points(points, width, FKD15.flip_permutation())
    for left, right in [
        ("left_eye_center", "right_eye_center"),
        ("left_eye_outer_corner", "right_eye_outer_corner"),
        ("left_eyebrow_inner_end", "right_eyebrow_inner_end"),
        ("mouth_left_corner", "mouth_right_corner"),
    ]:
        for slot, source in [(left, right), (right, left)]:
            mirrored = points[:, FKD15.index(source)].clone()
            mirrored[:, 0] = width - 1 - mirrored[:, 0]
            assert torch.allclose(flipped[:, FKD15.index(slot)], mirrored)
    nose = FKD15.index("nose_tip")
    assert torch.allclose(flipped[:, nose, 0], width - 1 - points[:, nose, 0])


@pytest.mark.parametrize("scheme", [FKD15, IBUG68])
def test_flipping_twice_is_identity(scheme):
    points = torch.rand(3, scheme.num_keypoints, 2) * 96
    perm = scheme.flip_permutation()
    twice = hflip_points(hflip_points(points, 96, perm, 1.0), 96, perm, 1.0)
    assert torch.allclose(twice, points, atol=1e-5)
    images = torch.rand(3, 1, 96, 96)
    assert torch.equal(hflip_images(hflip_images(images)), images)


def test_augment_batch_flip_preset_twice_is_identity():
    config = replace(AUGMENT_PRESETS["flip"], flip_prob=1.0)
    perm = FKD15.flip_permutation()
    points = face_points(4)
    mask = torch.rand(4, FKD15.num_keypoints, generator=torch.Generator().manual_seed(5)) < 0.7
    points = torch.where(mask[..., None], points, 0.0)
    images = torch.rand(4, 1, 96, 96)
    once = augment_batch(images, points, mask, config, perm)
    twice = augment_batch(*once, config, perm)
    assert torch.allclose(twice[0], images, atol=1e-4)
    assert torch.allclose(twice[1], points, atol=1e-4) and torch.equal(twice[2], mask)
    assert not torch.equal(once[2], mask)  # the mask moved with the names


def test_swap_flipped_only_touches_flipped_rows():
    points = face_points(2)
    mask = torch.ones(2, FKD15.num_keypoints, dtype=torch.bool)
    mask[:, FKD15.index("left_eye_center")] = False
    flipped = torch.tensor([True, False])
    new_points, new_mask = swap_flipped(points, mask, flipped, FKD15.flip_permutation())
    assert torch.equal(new_points[1], points[1]) and torch.equal(new_mask[1], mask[1])
    assert not new_mask[0, FKD15.index("right_eye_center")]
    assert new_mask[0, FKD15.index("left_eye_center")]


PHOTOMETRIC = {
    "brightness_contrast": lambda x, g: random_brightness_contrast(x, 0.3, 0.4, 1.0, g),
    "blur": lambda x, g: random_blur(x, (0.5, 1.5), 1.0, g),
    "noise": lambda x, g: random_noise(x, (0.05, 0.1), 1.0, g),
    "occlusion": lambda x, g: random_occlusion(x, (0.05, 0.2), (0.5, 2.0), 0.5, 1.0, g),
}


@pytest.mark.parametrize("name", list(PHOTOMETRIC))
def test_photometric_ops_change_images_within_range(name):
    generator = torch.Generator().manual_seed(6)
    images = torch.rand(16, 3, 40, 60, generator=generator)
    out = PHOTOMETRIC[name](images, generator)
    assert out.shape == images.shape and out.min() >= 0.0 and out.max() <= 1.0
    changed = (out - images).abs().flatten(1).amax(dim=1) > 1e-3
    assert changed.all()


def test_photometric_probability_zero_is_identity():
    generator = torch.Generator().manual_seed(8)
    images = torch.rand(4, 1, 32, 32, generator=generator)
    assert torch.allclose(random_brightness_contrast(images, 0.3, 0.3, 0.0, generator), images)
    assert torch.allclose(random_blur(images, (0.5, 1.5), 0.0, generator), images, atol=1e-6)
    assert torch.equal(random_noise(images, (0.05, 0.1), 0.0, generator), images)
    occluded = random_occlusion(images, (0.1, 0.2), (0.5, 2.0), 0.5, 0.0, generator)
    assert torch.equal(occluded, images)


def test_photometric_presets_leave_points_untouched():
    photometric_only = replace(
        AUGMENT_PRESETS["full"], rotation_deg=0.0, scale=(1.0, 1.0), shift_frac=0.0,
        shear_deg=0.0, flip_prob=0.0,
    )
    points = face_points(8)
    mask = torch.ones(8, FKD15.num_keypoints, dtype=torch.bool)
    images = torch.rand(8, 1, 96, 96)
    generator = torch.Generator().manual_seed(9)
    out_images, out_points, out_mask = augment_batch(
        images, points, mask, photometric_only, FKD15.flip_permutation(), generator=generator
    )
    assert out_points is points and out_mask is mask
    assert out_images.min() >= 0 and out_images.max() <= 1 and not torch.equal(out_images, images)


def test_augment_batch_is_reproducible_with_seeded_generator():
    points = face_points(8)
    mask = torch.ones(8, FKD15.num_keypoints, dtype=torch.bool)
    images = torch.rand(8, 1, 96, 96)
    config, perm = AUGMENT_PRESETS["full"], FKD15.flip_permutation()

    def run(seed):
        return augment_batch(
            images, points, mask, config, perm, generator=torch.Generator().manual_seed(seed)
        )

    first, again, other = run(10), run(10), run(11)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[0], other[0]) and not torch.equal(first[1], other[1])


def test_points_pushed_outside_the_image_are_masked_and_zeroed():
    height, width = 80, 120
    points = torch.tensor([[[2.0, 40.0], [60.0, 40.0], [117.0, 40.0]]]).expand(64, 3, 2)
    mask = torch.ones(64, 3, dtype=torch.bool)
    config = AugmentConfig(shift_frac=0.2)
    images = torch.zeros(64, 1, height, width)
    _, out_points, out_mask = augment_batch(
        images, points, mask, config, [0, 1, 2], origin_offset=1.0,
        generator=torch.Generator().manual_seed(12),
    )
    assert out_mask[:, 1].all()  # the centre point cannot leave with a 20% shift
    assert not out_mask[:, 0].all() and not out_mask[:, 2].all()
    assert inside_image(out_points, height, width, 1.0)[out_mask].all()
    assert (out_points[~out_mask] == 0).all()


def test_inside_image_uses_the_pixel_extent_in_the_label_frame():
    points = torch.tensor([[[-0.5, 0.0], [-0.51, 0.0], [119.5, 79.5], [119.6, 10.0]]])
    assert inside_image(points, 80, 120).tolist() == [[True, False, True, False]]
    assert inside_image(points + 1.0, 80, 120, 1.0).tolist() == [[True, False, True, False]]


def test_presets_are_valid_and_full_is_richest():
    assert set(AUGMENT_PRESETS) == {"none", "flip", "flip_brightness", "full", "photo", "pose"}
    assert AUGMENT_PRESETS["pose"].rotation_deg >= 60 and AUGMENT_PRESETS["pose"].point_occlusion_prob > 0
    assert all(AUGMENT_PRESETS[name].point_occlusion_prob == 0 for name in ("none", "flip", "flip_brightness", "full", "photo"))
    assert not AUGMENT_PRESETS["none"].moves_points
    full = AUGMENT_PRESETS["full"]
    assert full.rotation_deg > 0 and full.shear_deg > 0 and full.occlusion_prob > 0
    with pytest.raises(ValueError):
        AugmentConfig(flip_prob=1.5)
    with pytest.raises(ValueError):
        AugmentConfig(scale=(1.2, 0.8))


def test_flip_permutation_accepts_numpy_list_and_tensor():
    points = face_points(1)
    perm = FKD15.flip_permutation()
    by_numpy = hflip_points(points, 96, perm)
    assert torch.equal(hflip_points(points, 96, perm.tolist()), by_numpy)
    assert torch.equal(hflip_points(points, 96, torch.as_tensor(perm)), by_numpy)
    assert np.array_equal(perm[perm], np.arange(FKD15.num_keypoints))


def test_point_occlusion_covers_a_labelled_point_and_nothing_far_from_it():
    """The square lands on a labelled point, never on an unlabelled one, and leaves the rest."""
    n, size = 16, 64
    images = torch.ones(n, 3, size, size)
    points = torch.tensor([[10.0, 12.0], [50.0, 40.0]]).expand(n, 2, 2).clone()
    mask = torch.tensor([True, False]).expand(n, 2).clone()
    config = AugmentConfig(point_occlusion_prob=1.0, point_occlusion_area=(0.01, 0.02))
    out, out_points, out_mask = augment_batch(images, points, mask, config, [1, 0],
                                              generator=torch.Generator().manual_seed(3))
    assert torch.equal(out_points, points) and torch.equal(out_mask, mask)
    assert (out[:, :, 12, 10] < 1).all()  # the labelled point is covered in every image
    assert (out[:, :, 40, 50] == 1).all() and (out[:, :, 40:, 30:] == 1).all()
