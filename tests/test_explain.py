"""`facepoints explain` on real faces: maps lie on the keypoint's own face part, and what they call
hot matters to the prediction; any run folder and the bundled models load; user errors are one line."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from facepoints.cli import app
from facepoints.commands.detect import example_photo
from facepoints.crop import apply_affine
from facepoints.data.landmarks import read_landmark_csv
from facepoints.explain import ExplainableModel, explain_face, occlude
from facepoints.explain.maps import patch_corners
from facepoints.imageio import read_image
from facepoints.runtime import KeypointModel, bundled_model_path

LEFT_EYE, MOUTH = list(range(42, 48)), list(range(48, 68))  # ibug68: the subject's left eye, the lips
MOUTH_CORNERS = [48, 54]
PATCH = 16  # an eighth of the 128 px crop: about an eye
FKD_WEIGHTS = bundled_model_path("fkd15").with_suffix(".safetensors")

runner = CliRunner()


def explain(*args):
    result = runner.invoke(app, ["explain", *map(str, args)])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def ibug68():
    return ExplainableModel("ibug68")


@pytest.fixture(scope="module")
def face(shared_data):
    """The first face of the 300-W file (AFW). The bundled model may have trained on it: the checks are
    about where the maps lie and what they predict about occlusion, not about accuracy."""
    samples, _ = read_landmark_csv(shared_data / "w300" / "faces" / "keypoints.csv")
    return samples[0]


@pytest.fixture(scope="module")
def explained(ibug68, face):
    explanation = explain_face(ibug68, read_image(face.image), LEFT_EYE + MOUTH_CORNERS)
    return explanation, apply_affine(face.points, explanation.matrix)  # labels in the model's crop


def mass_distance(heat: np.ndarray, point: np.ndarray) -> float:
    """Mean distance of a map's mass from ``point``, in crop pixels."""
    rows, columns = np.mgrid[: heat.shape[0], : heat.shape[1]]
    return float((heat * np.hypot(columns - point[0], rows - point[1])).sum() / heat.sum())


def test_left_eye_maps_lie_on_the_left_eye_and_mouth_maps_on_the_mouth(explained):
    explanation, labels = explained
    eye, mouth = labels[LEFT_EYE].mean(0), labels[MOUTH].mean(0)
    for i, k in enumerate(explanation.keypoints):
        for method, maps in (("Grad-CAM", explanation.gradcam), ("occlusion", explanation.occlusion)):
            for c, axis in enumerate("xy"):
                to_eye, to_mouth = mass_distance(maps[i, c], eye), mass_distance(maps[i, c], mouth)
                right_part = to_eye < to_mouth if k in LEFT_EYE else to_mouth < to_eye
                assert right_part, (f"{method} {axis} map of keypoint {k}: mass {to_eye:.1f} px from the left eye, "
                                    f"{to_mouth:.1f} px from the mouth")


def test_occluding_the_hottest_region_moves_the_keypoint_more_than_a_cold_one(ibug68, explained):
    explanation, labels = explained
    low, high = labels.min(0), labels.max(0)  # cold regions are sought on the face, not in the background
    corners = [(top, left) for top, left in patch_corners(explanation.crop.shape[0], PATCH, 4)
               if low[0] <= left + PATCH / 2 <= high[0] and low[1] <= top + PATCH / 2 <= high[1]]
    hot_shifts, cold_shifts = [], []
    for i, k in enumerate(LEFT_EYE):
        heat = explanation.gradcam[i].sum(0)
        mass = [heat[top : top + PATCH, left : left + PATCH].sum() for top, left in corners]
        hot, cold = corners[int(np.argmax(mass))], corners[int(np.argmin(mass))]
        hot_shift, cold_shift = np.linalg.norm(occlude(ibug68, explanation.crop, [hot, cold], PATCH)[:, k], axis=-1)
        assert hot_shift > cold_shift, f"keypoint {k}: hot patch moved it {hot_shift:.3f} px, cold {cold_shift:.3f} px"
        hot_shifts.append(hot_shift)
        cold_shifts.append(cold_shift)
    assert np.mean(hot_shifts) > 3 * np.mean(cold_shifts), (hot_shifts, cold_shifts)


@pytest.mark.slow  # three explain commands, each loading torch and the model
def test_cli_writes_the_keypoint_picture_and_where_it_looks(tmp_path, face):
    code, output = explain("ibug68", face.image, "--keypoint", "left_eye_0", "--out", tmp_path)
    assert code == 0, output
    document = json.loads((tmp_path / "explain.json").read_text())
    (record,) = document["keypoints"]
    assert record["name"] == "left_eye_0" and document["layer"] == "decoder"
    # Four 256 px maps under a caption band and a title band.
    assert read_image(tmp_path / record["picture"]).shape == (256 + 2 * 20, 4 * 256 + 3 * 4, 3)
    eye_distance = np.linalg.norm(face.points[LEFT_EYE].mean(0) - face.points[36:42].mean(0))
    for key in ("xy", "gradcam_peak", "occlusion_peak"):
        assert np.linalg.norm(np.array(record[key]) - face.points[42]) < 0.4 * eye_distance, (key, record)
    assert not (tmp_path / "grid.png").exists()  # one keypoint: its picture is all there is

    # Again into the same folder: the earlier explanation is replaced whole, none of it left behind.
    (tmp_path / "99_stale.png").write_bytes(b"from an earlier run")
    code, output = explain("ibug68", face.image, "--keypoint", "left_eye_3", "--out", tmp_path)
    assert code == 0, output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["45_left_eye_3.png", "explain.json"]
    # A folder holding other things is refused, untouched.
    (tmp_path / "explain.json").unlink()
    code, output = explain("ibug68", face.image, "--keypoint", "left_eye_3", "--out", tmp_path)
    assert code == 1 and "not empty" in output and (tmp_path / "45_left_eye_3.png").exists()


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory, fkd_dir):
    """An (untrained) run folder of the most nested graph `train` builds: an ensemble of split pairs."""
    from facepoints.training.config import recipe
    from facepoints.training.run import train_run

    out = tmp_path_factory.mktemp("run")
    train_run(recipe("lenet5", epochs=0, ensemble=2, val_fraction=0.0), fkd_dir / "training.zip", out, progress=False)
    return out


def test_run_folder_rebuilds_the_network_its_onnx_file_runs(run_folder, tmp_path):
    model = ExplainableModel(run_folder)
    assert model.scheme.name == "fkd15" and len(model.parts) == 4  # 2 members x (core, full)
    crops = explain_face(model, read_image(example_photo()), [0]).crop[None]
    assert np.abs(model.predict(crops) - KeypointModel(run_folder).predict(crops)).max() < 1e-3

    code, output = explain(run_folder, example_photo(), "--box", "182,121,171,211", "--out", tmp_path)
    assert code == 0, output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 15 + 2 and "grid.png" in names and "00_left_eye_center.png" in names


@pytest.mark.skipif(not FKD_WEIGHTS.is_file(),
                    reason=f"{FKD_WEIGHTS.name} is not bundled yet: explain needs torch weights for fkd15")
def test_bundled_fkd_model_looks_at_the_left_eye(tmp_path):
    code, output = explain("fkd15", example_photo(), "--keypoint", "left_eye_center", "--out", tmp_path)
    assert code == 0, output
    (record,) = json.loads((tmp_path / "explain.json").read_text())["keypoints"]
    # Grace Hopper's eyes, hand-checked: left (on the image's right) near (306, 189), right near
    # (224, 193), 82 px apart. The x map peaks where the eye's extent is read (its corners), so
    # "on the eye" means within half an eye distance, and nearer this eye than the other.
    peak = np.array(record["gradcam_peak"])
    left, right = np.array([306, 189]), np.array([224, 193])
    assert np.linalg.norm(peak - left) < 41 and np.linalg.norm(peak - left) < np.linalg.norm(peak - right), record


@pytest.mark.parametrize("args, message", [
    (["ibug68", "{face}", "--layer", "nope"], "unknown layer 'nope' of the integral model"),
    (["ibug68", "{face}", "--keypoint", "left_eye"], "unknown keypoint 'left_eye'"),
    (["{onnx}", "{face}"], "needs torch weights"),
    (["ibug68", "{tmp}/missing.jpg"], "missing.jpg: file not found"),
    (["ibug68", "{tmp}/blank.png"], "blank.png: no face found; give its box with --box"),
])
def test_user_errors_are_one_line_with_exit_code_1(tmp_path, face, args, message):
    from PIL import Image

    Image.new("RGB", (200, 200), "grey").save(tmp_path / "blank.png")
    args = [a.format(tmp=tmp_path, face=face.image, onnx=bundled_model_path("ibug68")) for a in args]
    code, output = explain(*args, "--out", tmp_path / "out")
    assert code == 1, output
    assert message in output and len(output.strip().splitlines()) == 1 and "Traceback" not in output
    assert not (tmp_path / "out").exists()


def test_unknown_layer_error_names_the_layers(face, tmp_path):
    _, output = explain("ibug68", face.image, "--layer", "nope", "--out", tmp_path)
    assert "decoder" in output and "encoder.stages.3" in output


@pytest.mark.parametrize("name", ["ibug68-fast", "ibug68-tiny"])
def test_bundled_mobile_models_rebuild_from_their_half_precision_weights(name, bundled_float_network):
    """The weights make the flip-averaged network the ONNX file runs (up to half precision:
    random changes of that size move points by under 0.01 px), on the crop size the file records
    (96 px for ibug68-tiny), and maps default to the decoder's output, as ibug68's do."""
    model = ExplainableModel(name)
    assert model.default_layer() == "decoder"
    crops = explain_face(model, read_image(example_photo()), [0]).crop[None]
    assert crops.shape[1:3] == KeypointModel(name).image_size
    rebuilt = bundled_float_network(name)(crops)
    assert np.abs(rebuilt - KeypointModel(name).predict(crops)).max() < 0.02
    # The maps' network is one pass of the same weights: near the averaged points, not on them.
    assert 0.02 < np.abs(model.predict(crops) - rebuilt).max() < 2
