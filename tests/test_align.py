"""Aligned crops: the template's placement is exact for a face that is a similarity of it, and on
real held-out photos the eyes found again on the crops land on the template's eyes."""

import json

import numpy as np
import pytest

from facepoints.align import TEMPLATES, aligned_crop, alignment_matrix, template_points
from facepoints.commands.detect import example_photo
from facepoints.crop import apply_affine
from facepoints.data.landmarks import read_landmark_csv
from facepoints.imageio import read_image
from facepoints.inference import FaceKeypointer

from support import HELD_OUT, cli



@pytest.mark.parametrize("template", list(TEMPLATES))
def test_five_points_on_a_similarity_of_the_template_land_on_it(template):
    angle, scale, shift = np.radians(25), 3.2, np.array([140.0, 60.0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    five = template_points(template, 224) @ rotation.T + shift
    matrix = alignment_matrix(five, "celeba5", 224, template)
    assert np.abs(apply_affine(five, matrix) - template_points(template, 224)).max() < 1e-3


def test_eyes_found_again_on_held_out_crops_sit_on_the_template(shared_data, keypointer):
    samples, _ = read_landmark_csv(shared_data / "w300" / "faces" / "keypoints.csv")
    samples = [s for s in samples if f"w300:{s.group}" in HELD_OUT][:25]
    to_template, to_placed = [], []
    for sample in samples:
        image = read_image(sample.image)
        faces = keypointer(image)
        face = min(faces, key=lambda f: np.linalg.norm(f.keypoints.mean(0) - sample.points.mean(0)))
        again = keypointer(face.aligned(image, 112, "arcface"), scheme="celeba5")
        assert len(again) >= 1
        eyes = again[0].keypoints[:2]
        # Where the crop put this face's own eyes: the template's, up to the five-point fit's residual.
        placed = apply_affine(face.keypoints[36:48].reshape(2, 6, 2).mean(1), alignment_matrix(face.keypoints, "ibug68"))
        to_template += list(np.linalg.norm(eyes - template_points("arcface", 112)[:2], axis=1))
        to_placed += list(np.linalg.norm(eyes - placed, axis=1))
    # docs/benchmarks.md has every held-out face; the least-squares fit of five points leaves the
    # eyes about 1-2 px from the template's on its own.
    assert np.median(to_placed) < 1.5 and np.median(to_template) < 3.0


def test_align_command_writes_one_crop_per_face_and_never_into_an_input_folder(tmp_path):
    photo = tmp_path / "in" / "hopper.jpg"
    photo.parent.mkdir()
    photo.write_bytes(example_photo().read_bytes())
    (tmp_path / "in" / "broken.jpg").write_bytes(b"not an image")
    result = cli("align", str(photo.parent), "--out", str(tmp_path / "crops"), "--size", "128", "--template", "head",
                 "--json", str(tmp_path / "crops.json"))
    assert result.returncode == 1 and "broken.jpg" in result.stderr  # the batch went on past the broken photo
    crop = read_image(tmp_path / "crops" / "hopper_0.png")
    assert crop.shape == (128, 128, 3)
    assert json.loads((tmp_path / "crops.json").read_text())["images"][1]["faces"][0]["crop"].endswith("hopper_0.png")
    assert np.array_equal(crop, aligned_crop(read_image(photo), FaceKeypointer()(read_image(photo))[0].keypoints,
                                             "ibug68", 128, "head"))
    refused = cli("align", str(photo), "--out", str(photo.parent))
    assert refused.returncode == 1 and "must not be an input's folder" in refused.stderr
    assert sorted(p.name for p in photo.parent.iterdir()) == ["broken.jpg", "hopper.jpg"]
    unknown = cli("align", str(photo), "--out", str(tmp_path / "x"), "--template", "square")
    assert unknown.returncode == 2 and "square" in unknown.stderr


def test_align_never_writes_its_json_over_an_input_and_a_mistyped_model_is_a_usage_error(tmp_path):
    photo = tmp_path / "hopper.jpg"
    photo.write_bytes(example_photo().read_bytes())
    refused = cli("align", str(photo), "--out", str(tmp_path / "crops"), "--json", str(photo))
    assert refused.returncode == 1 and "would replace the input" in refused.stderr
    assert photo.read_bytes() == example_photo().read_bytes() and not (tmp_path / "crops").exists()
    unknown = cli("align", str(photo), "--out", str(tmp_path / "crops"), "--model", "nosuch")
    assert unknown.returncode == 2 and "nosuch" in unknown.stderr and not (tmp_path / "crops").exists()
