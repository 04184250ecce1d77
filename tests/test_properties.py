"""Properties that must hold for any input, checked on inputs hypothesis draws: flips and scheme
mappings agree, points follow pixels through a warp, and a face's framing maps its reference
points exactly where the framing says."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from facepoints.crop import PHOTO_FRAMING, Framing, apply_affine, crop_face, framing_transform, invert_affine
from facepoints.schemes import SCHEMES, convert_points, get_scheme, mapping_matrix
from facepoints.transforms import affine_about_centre, warp_images, warp_points

coordinates = st.floats(-50, 250, allow_nan=False, width=32)
angles = st.floats(-np.pi, np.pi)


def mirror(points: np.ndarray, width: int, scheme: str) -> np.ndarray:
    """Points of the left-right mirrored image, each in its own slot."""
    mirrored = points * [-1, 1] + [width - 1, 0]
    return mirrored[..., get_scheme(scheme).flip_permutation(), :]


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_flip_pairs_are_disjoint_so_the_permutation_is_an_involution(scheme):
    pairs = np.array(get_scheme(scheme).flip_pairs).ravel()
    perm = get_scheme(scheme).flip_permutation()
    assert len(set(pairs)) == len(pairs)
    assert np.array_equal(perm[perm], np.arange(len(perm)))
    assert all(perm[a] == b for a, b in get_scheme(scheme).flip_pairs)


def mapped_pairs() -> list[tuple[str, str]]:
    """Every (source, target) pair of distinct schemes that a mapping joins."""
    pairs = []
    for source, target in itertools.permutations(sorted(SCHEMES), 2):
        try:
            mapping_matrix(source, target)
        except ValueError:
            continue
        pairs.append((source, target))
    return pairs


def test_the_mapped_pairs_include_every_bundled_mapping():
    assert {("ibug68", "fkd15"), ("fkd15", "celeba5"), ("ibug68", "celeba5")} <= set(mapped_pairs())


@pytest.mark.parametrize("source,target", mapped_pairs())
@given(data=st.data(), width=st.integers(1, 400))
def test_converting_a_mirrored_face_gives_the_mirrored_conversion(source, target, width, data):
    """Each scheme's flip pairs agree with the mappings between schemes, whichever side convention
    (the subject's or the image's) a scheme names its points by."""
    points = data.draw(arrays(np.float32, (get_scheme(source).num_keypoints, 2), elements=coordinates))
    mask = np.ones(len(points), bool)
    converted_of_mirror, _ = convert_points(mirror(points, width, source), mask, source, target)
    mirror_of_converted = mirror(convert_points(points, mask, source, target)[0], width, target)
    np.testing.assert_allclose(converted_of_mirror, mirror_of_converted, atol=1e-3)


@settings(max_examples=40, deadline=None)
@given(angle=st.floats(-0.6, 0.6), scale=st.floats(0.7, 1.4), shift_x=st.floats(-6, 6),
       shift_y=st.floats(-6, 6), x=st.floats(24, 40), y=st.floats(24, 40))
def test_a_warped_blob_lands_where_warp_points_puts_its_centre(angle, scale, shift_x, shift_y, x, y):
    size, sigma = 64, 2.5
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    linear = torch.tensor([[[cos, -sin], [sin, cos]]], dtype=torch.float64)
    matrix = affine_about_centre(linear, torch.tensor([[shift_x, shift_y]], dtype=torch.float64), size, size)
    grid_y, grid_x = torch.meshgrid(torch.arange(size, dtype=torch.float64), torch.arange(size, dtype=torch.float64),
                                    indexing="ij")
    blob = torch.exp(-((grid_x - x) ** 2 + (grid_y - y) ** 2) / (2 * sigma**2))[None, None]
    warped = warp_images(blob, matrix, padding_mode="zeros")[0, 0]
    centroid = torch.stack([(warped * grid_x).sum(), (warped * grid_y).sum()]) / warped.sum()
    expected = warp_points(torch.tensor([[[x, y]]], dtype=torch.float64), matrix)[0, 0]
    assert torch.linalg.norm(centroid - expected) < 0.05, (centroid, expected)


@given(angle=angles, log_scale=st.floats(-3, 2), shift=st.tuples(coordinates, coordinates),
       size=st.sampled_from([64, 96, 128, 256]))
def test_the_framing_matrix_puts_a_similar_face_exactly_on_the_template(angle, log_scale, shift, size):
    """A face whose reference points are a rotated, scaled, shifted copy of the template is framed
    exactly onto the template, and the inverse matrix brings the template back to the face."""
    framing = PHOTO_FRAMING.scaled(size)
    template = np.array(framing.template)
    scale = np.exp(log_scale)
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    reference = template @ rotation.T + shift
    matrix = framing_transform(reference, framing)
    np.testing.assert_allclose(apply_affine(reference, matrix), template, atol=1e-3)
    np.testing.assert_allclose(apply_affine(template, invert_affine(matrix)), reference, atol=1e-3 * max(scale, 1))


@given(size=st.integers(16, 512))
def test_a_scaled_framing_scales_the_crop_edges_and_scales_back(size):
    scaled = PHOTO_FRAMING.scaled(size)
    factor = size / PHOTO_FRAMING.size
    np.testing.assert_allclose(np.array(scaled.template),
                               (np.array(PHOTO_FRAMING.template) + 0.5) * factor - 0.5, atol=1e-4)
    np.testing.assert_allclose(np.array(scaled.scaled(PHOTO_FRAMING.size).template),
                               np.array(PHOTO_FRAMING.template), atol=1e-3 * max(1, 128 / size))
    assert Framing.from_dict(scaled.as_dict()) == scaled


@settings(max_examples=30, deadline=None)
@given(angle=st.floats(-0.5, 0.5), shrink=st.floats(0.8, 6.0), x=st.floats(150, 250), y=st.floats(150, 250))
def test_a_point_of_the_photo_lands_in_the_crop_where_the_matrix_says(angle, shrink, x, y):
    """crop_face follows its matrix, pixel centres included, also where it halves the photo first."""
    sigma = 2.0 * shrink  # two crop pixels, whatever the shrink
    grid_y, grid_x = np.mgrid[:400, :400].astype(np.float64)
    photo = 255 * np.exp(-((grid_x - x) ** 2 + (grid_y - y) ** 2) / (2 * sigma**2))
    linear = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) / shrink
    matrix = np.hstack([linear, (np.array([32.0, 32.0]) - linear @ [x, y])[:, None]])
    crop = crop_face(photo.astype(np.float32), matrix, 64).astype(np.float64)
    crop_y, crop_x = np.mgrid[:64, :64]
    centroid = np.array([(crop * crop_x).sum(), (crop * crop_y).sum()]) / crop.sum()
    np.testing.assert_allclose(centroid, apply_affine(np.array([x, y]), matrix), atol=0.1)
