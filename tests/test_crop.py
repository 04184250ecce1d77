"""Face crops from large photos: only the region a crop covers is shrunk, with the same result."""

import cv2
import numpy as np
import pytest

from facepoints import crop, resample
from facepoints.crop import PHOTO_FRAMING, crop_face, framing_transform, halvings_before, reference_points
from facepoints.data.landmarks import read_landmark_csv
from facepoints.imageio import read_image


def whole_photo_crop(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The reference: shrink the whole photo by area-averaging to within 2x of the crop's scale
    (by the exact fraction, not in halvings), then warp."""
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    factor = 0.5 ** np.floor(np.log2(0.5 / scale) + 1)
    small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    to_full = np.array([[1 / factor, 0, 0.5 / factor - 0.5], [0, 1 / factor, 0.5 / factor - 0.5], [0, 0, 1]])
    return cv2.warpAffine(small, matrix @ to_full, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@pytest.fixture(scope="module")
def big_face(shared_data):
    """A labelled 300-W face blown up 6x inside a photo three times its size: its crop shrinks the
    photo by far more than 2 and reads a small part of it."""
    samples, scheme = read_landmark_csv(shared_data / "w300/faces/keypoints.csv")
    sample = samples[3]
    face = cv2.resize(read_image(sample.image), None, fx=6, fy=6, interpolation=cv2.INTER_CUBIC)
    border = max(face.shape[:2])
    image = np.pad(face, ((border, border), (border, border), (0, 0)), mode="reflect")
    points = (sample.points + 0.5) * 6 - 0.5 + border
    reference, _ = reference_points(points, sample.mask, scheme, PHOTO_FRAMING)
    return image, framing_transform(reference, PHOTO_FRAMING)


@pytest.mark.parametrize("shift", [(0, 0), (-0.45, 0), (0.3, 0.4)])
def test_cropping_a_region_matches_shrinking_the_whole_photo(big_face, shift, monkeypatch):
    """Centred, half off the left edge, off the bottom-right corner: edges repeat alike."""
    image, matrix = big_face
    matrix = matrix.copy()
    matrix[:, 2] += np.array(shift) * PHOTO_FRAMING.size
    assert np.sqrt(np.linalg.det(matrix[:, :2])) < 0.25
    resized = []
    real_halved = crop.halved
    monkeypatch.setattr(crop, "halved", lambda src: resized.append(src.shape) or real_halved(src))
    ours = crop_face(image, matrix, PHOTO_FRAMING.size).astype(float)
    monkeypatch.undo()
    # Only the region the crop reads was shrunk (in halvings), not the whole photo.
    halvings = halvings_before(float(np.sqrt(np.linalg.det(matrix[:, :2]))))
    assert len(resized) == halvings and resized[0][0] * resized[0][1] < 0.25 * image.shape[0] * image.shape[1], resized
    reference = whole_photo_crop(image, matrix, PHOTO_FRAMING.size).astype(float)
    # The two shrinks sample the photo at another phase: a blur apart, never a shift.
    assert np.abs(ours - reference).mean() < 2.0, np.abs(ours - reference).mean()
    shift_found = cv2.phaseCorrelate(ours.mean(-1), reference.mean(-1))[0]
    assert np.hypot(*shift_found) < 0.1, shift_found


def test_a_crop_wholly_outside_the_photo_repeats_its_nearest_edge(big_face):
    image, matrix = big_face
    far = matrix.copy()
    far[:, 2] += (5000, 0)  # the crop reads photo pixels far to the left of the photo
    crop = crop_face(image, far, PHOTO_FRAMING.size)
    reference = whole_photo_crop(image, far, PHOTO_FRAMING.size)
    assert crop.shape == reference.shape
    assert np.abs(crop.astype(float) - reference).mean() < 3.0


def test_a_scaled_framing_crops_the_same_face_smaller(shared_data):
    """ibug68-tiny's 96 px framing frames a face as the 128 px one does: the crop's edges scale,
    so a point at x in the 128 px crop sits at (x + 0.5) * 0.75 - 0.5 in the 96 px one, and the
    96 px crop looks like the 128 px crop shrunk."""
    samples, scheme = read_landmark_csv(shared_data / "w300/faces/keypoints.csv")
    sample = samples[0]
    image = read_image(sample.image)
    small = PHOTO_FRAMING.scaled(96)
    assert small.size == 96 and PHOTO_FRAMING.scaled(128) == PHOTO_FRAMING
    crops, points = {}, {}
    for framing in (PHOTO_FRAMING, small):
        reference, _ = reference_points(sample.points, sample.mask, scheme, framing)
        matrix = framing_transform(reference, framing)
        crops[framing.size] = crop_face(image, matrix, framing.size)
        points[framing.size] = sample.points @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(points[96], (points[128] + 0.5) * 0.75 - 0.5, atol=1e-3)
    shrunk = cv2.resize(crops[128], (96, 96), interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk.astype(float) - crops[96]).mean() < 4


def test_a_halving_leaves_an_odd_last_row_and_column_out():
    """Pixel centres map as x / 2 - 0.25 only for exact halvings: OpenCV's of an odd side stretches."""
    from facepoints.crop import area_halvings

    image = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    blocks = image[:6, :4].reshape(3, 2, 2, 2, 3).astype(int).sum((1, 3))
    np.testing.assert_array_equal(area_halvings(image, 1), (blocks + 2) // 4)


def test_resampling_without_opencv_samples_where_opencv_does(big_face, monkeypatch):
    """facepoints.resample (the light install's resampling) against OpenCV on a real photo: halvings
    identical; warps at OpenCV's positions (float images equal; 8-bit values truncated where OpenCV
    rounds, so at most one level lower), off the photo's edges too; the detector's shrink blurs
    a little more (it averages the pixels it skips) but never shifts."""
    image = np.ascontiguousarray(big_face[0][::4, ::4])
    monkeypatch.setattr(resample, "cv2", None)  # the light install's Pillow path; OpenCV itself stays at hand
    rng = np.random.default_rng(0)
    for _ in range(20):
        scale, angle = rng.uniform(0.3, 1.5), rng.uniform(-0.5, 0.5)
        z = scale * np.exp(1j * angle)
        matrix = np.array([[z.real, -z.imag, rng.uniform(-300, 50)], [z.imag, z.real, rng.uniform(-300, 50)]])
        for border, cv_border in (("replicate", cv2.BORDER_REPLICATE), ("zeros", cv2.BORDER_CONSTANT)):
            theirs = cv2.warpAffine(image, matrix, (128, 128), flags=cv2.INTER_LINEAR, borderMode=cv_border, borderValue=0)
            lower = theirs.astype(int) - resample.warp_affine(image, matrix, (128, 128), border)
            assert lower.min() >= 0 and lower.max() <= 1 and lower.mean() < 0.6
            floats = image.astype(np.float32)
            np.testing.assert_allclose(resample.warp_affine(floats, matrix, (128, 128), border), cv2.warpAffine(
                floats, matrix, (128, 128), flags=cv2.INTER_LINEAR, borderMode=cv_border, borderValue=0), atol=0.02)
    odd = image[: image.shape[0] // 2 * 2 - 1, : image.shape[1] // 2 * 2 - 1]  # odd sides: their last pixels left out
    np.testing.assert_array_equal(resample.halved(odd), cv2.resize(odd[:-1, :-1], None, fx=0.5, fy=0.5,
                                                                    interpolation=cv2.INTER_AREA))
    for scale in (0.93, 0.7, 0.51):
        ours = resample.shrunk(image, scale)
        fx, fy = ours.shape[1] / image.shape[1], ours.shape[0] / image.shape[0]  # the sides' ratios, as it maps
        theirs = cv2.resize(image, ours.shape[1::-1], fx=fx, fy=fy, interpolation=cv2.INTER_LINEAR)
        assert ours.shape == theirs.shape and np.abs(ours.astype(float) - theirs).mean() < 2.0
        shift = cv2.phaseCorrelate(ours.mean(-1), theirs.mean(-1).astype(float))[0]
        assert np.hypot(*shift) < 0.05, shift
