"""The bundled model through ONNX Runtime: metadata, accuracy on real faces, Kaggle submission."""

import csv

import numpy as np
import pytest

from facepoints.data.fkd import read_fkd_test, read_fkd_training
from facepoints.errors import ModelError
from facepoints.evaluation import kaggle_rmse
from facepoints.runtime import KeypointModel


@pytest.fixture(scope="module")
def fkd15():
    return KeypointModel("fkd15", threads=2)


def test_bundled_model_metadata(fkd15):
    assert fkd15.scheme.name == "fkd15" and fkd15.image_size == (96, 96) and fkd15.channels == 1
    assert fkd15.framing.size == 96 and len(fkd15.framing.template) == 2
    assert 0.5 < fkd15.label_offset < 2.0  # the FKD labels are 1-based-like: learned, not assumed


def test_bundled_model_fits_the_faces_it_learned(fkd15, fkd_dir):
    ks = read_fkd_training(fkd_dir / "training.zip").subset(slice(0, 400))
    pred = fkd15.predict(ks.images)
    # Seen rows: far below the 1.45 held-out RMSE of its validated twin, far above a broken model.
    assert kaggle_rmse(pred, ks.points, ks.mask) < 1.4


def test_predictions_do_not_depend_on_batching(fkd15, fkd_dir):
    _, images = read_fkd_test(fkd_dir / "test.zip")
    np.testing.assert_allclose(fkd15.predict(images[:10], batch_size=1), fkd15.predict(images[:10]), atol=1e-3)


def test_wrong_image_shape_is_a_model_error(fkd15):
    with pytest.raises(ModelError, match="expects images of shape"):
        fkd15.predict(np.zeros((1, 48, 48), np.uint8))


def test_submission_covers_every_lookup_row(tmp_path, fkd_dir):
    from typer.testing import CliRunner

    from facepoints.cli import app

    out = tmp_path / "submission.csv"
    result = CliRunner().invoke(app, ["submit", "--test", str(fkd_dir / "test.zip"),
                                      "--lookup", str(fkd_dir / "IdLookupTable.csv"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(out)))
    lookup = list(csv.DictReader(open(fkd_dir / "IdLookupTable.csv")))
    assert [r["RowId"] for r in rows] == [r["RowId"] for r in lookup]
    values = np.array([float(r["Location"]) for r in rows])
    assert values.min() >= 0 and values.max() <= 96
    assert 30 < values.mean() < 60  # keypoints sit inside the face, not at a border


def test_model_with_foreign_metadata_is_a_one_line_model_error(tmp_path):
    import json

    import onnx

    from facepoints.runtime import bundled_model_path

    model = onnx.load(str(bundled_model_path("fkd15")))
    for prop in model.metadata_props:
        if prop.key == "facepoints":
            meta = json.loads(prop.value)
            meta["framing"] = {"eye_midpoint": [48.3, 37.8]}  # an older layout
            prop.value = json.dumps(meta)
    onnx.save(model, str(tmp_path / "old.onnx"))
    with pytest.raises(ModelError, match="old.onnx: facepoints metadata is incomplete"):
        KeypointModel(tmp_path / "old.onnx")


def test_flip_test_is_the_runtimes_choice_unless_the_graph_holds_it(tmp_path, fkd_dir):
    """Bundled files hold one pass and the flip's permutation and axis; flip test averages in the
    mirrored pass. A file exported with the flip inside its graph (as files were before flip test
    moved to the runtime) gives the same points, and refuses to run without flip test rather than
    silently keep it."""
    from dataclasses import replace

    from facepoints.explain.model import ExplainableModel
    from facepoints.export import export_onnx
    from facepoints.models.wrappers import FlipAveraged

    ks = read_fkd_training(fkd_dir / "training.zip").subset(slice(0, 400))
    bundled = KeypointModel("fkd15")
    flipped = bundled.predict(ks.images)
    one_pass = KeypointModel("fkd15", flip_test=False).predict(ks.images)
    assert kaggle_rmse(flipped, ks.points, ks.mask) < kaggle_rmse(one_pass, ks.points, ks.mask)

    # The old export: the same network (from its half-precision weights) with the flip in the graph.
    network = ExplainableModel("fkd15").network
    in_graph = FlipAveraged(network, bundled.flip.permutation, bundled.flip.axis_offset)
    export_onnx(in_graph, tmp_path / "in_graph.onnx", replace(bundled.record, flip_test=None, flip_in_graph=True))
    old = KeypointModel(tmp_path / "in_graph.onnx")
    assert old.flip is None
    assert np.abs(old.predict(ks.images[:32]) - flipped[:32]).max() < 0.05
    with pytest.raises(ModelError, match="in_graph.onnx: this model averages each face with its mirror inside its graph"):
        KeypointModel(tmp_path / "in_graph.onnx", flip_test=False)
