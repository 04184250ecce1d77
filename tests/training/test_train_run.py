"""End-to-end training on real FKD rows, on the CPU: run folder, ONNX parity, resume, masked loss."""

import csv
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from facepoints.errors import FacepointsError
from facepoints.data.fkd import read_fkd_training, read_groups
from facepoints.data.aligned import aligned_crops
from facepoints.data.keypoint_set import concatenate
from facepoints.data.landmarks import read_landmark_csv
from facepoints.data.packed import save_packed
from facepoints.models import create_model
from facepoints.runtime import KeypointModel
from facepoints.training.checkpoint_io import load_tree, save_tree
from facepoints.training.config import recipe
from facepoints.training.fit import GPU_HOST_THREADS, fit_module, limit_host_threads
from facepoints.training.module import KeypointModule, masked_loss
from facepoints.training.run import train_run
from facepoints.training.split import held_out, split_by_group
from facepoints.training.strategies import predict


@pytest.fixture(scope="module")
def fkd(fkd_dir):
    ks = read_fkd_training(fkd_dir / "training.zip")
    ks.groups = read_groups(fkd_dir / "training_identities.csv", len(ks))
    return ks


def test_masked_loss_ignores_unlabelled_coordinates():
    target = torch.zeros(2, 3, 2)
    mask = torch.tensor([[True, False, True], [False, False, True]])
    pred = torch.ones(2, 3, 2)
    wild = pred.clone()
    wild[~mask] = 1e6
    assert masked_loss(pred, target, mask, "l1") == masked_loss(wild, target, mask, "l1") == 1.0


def test_validation_split_keeps_identities_apart(fkd):
    train, val = split_by_group(fkd, 0.2, seed=0)
    assert not set(train.groups) & set(val.groups)
    assert 0.15 < len(val) / len(fkd) < 0.3
    again = split_by_group(fkd, 0.2, seed=0)[1]
    assert np.array_equal(again.rows, val.rows)


def test_one_set_of_a_combined_run_finds_exactly_its_held_out_rows(fkd):
    """`evaluate --split val` on one of a run's two sets: the run's held-out rows, not a new split."""
    first, second = fkd.subset(slice(0, 1400)), fkd.subset(slice(1400, None))
    _, val = split_by_group(concatenate([first, second], ["first", "second"]), 0.2, seed=0)
    found = held_out(second, [str(r) for r in val.rows], "second")
    expected = [r.split(":", 1)[1] for r in val.rows.astype(str) if r.startswith("second:")]
    assert sorted(found.rows.astype(str)) == sorted(expected) and len(expected) > 100
    resplit = split_by_group(second, 0.2, seed=0)[1]  # what evaluate did before: other faces
    assert set(resplit.rows.astype(str)) != set(expected)


@pytest.mark.slow  # a whole run: training, export, evaluation, plots and card
def test_run_folder_holds_a_usable_model(tmp_path, fkd_dir):
    out = tmp_path / "run"
    config = recipe("default", model="lenet5", strategy="masked", epochs=2, batch_size=32)
    result = train_run(config, fkd_dir / "training.zip", out, fkd_dir / "training_identities.csv",
                       exclude_rows=set(range(300, 2811)), progress=False)
    # Exclusions leave validation alone: the same held-out faces as without them.
    assert result["val_rows"] == 568 and result["excluded_rows"] == 2811 - 568 - result["train_rows"]
    for name in ("config.json", "metrics.csv", "curves.png", "worst.png", "model.safetensors", "model.onnx",
                 "card.md", "scores.json"):
        assert (out / name).is_file(), name
    assert 0 < result["train_rows"] < 300
    assert result["val"]["rmse"] == json.loads((out / "scores.json").read_text())["val"]["rmse"]
    assert "research" in (out / "card.md").read_text()
    epochs = {row["epoch"] for row in csv.DictReader(open(out / "metrics.csv"))}
    assert epochs == {"0", "1"}

    # The ONNX file scores exactly what the run reported.
    ks = read_fkd_training(fkd_dir / "training.zip")
    ks.groups = read_groups(fkd_dir / "training_identities.csv", 2811)
    _, val = split_by_group(ks, config.val_fraction, config.seed)
    onnx_pred = KeypointModel(out).predict(val.images)
    from facepoints.evaluation import kaggle_rmse
    assert kaggle_rmse(onnx_pred, val.points, val.mask) == pytest.approx(result["val"]["rmse"], abs=1e-3)
    # The file holds one pass; the runtime adds the mirrored one (training's FlipAveraged), or not.
    one_pass = KeypointModel(out, flip_test=False).predict(val.images)
    assert kaggle_rmse(one_pass, val.points, val.mask) == pytest.approx(result["val_without_flip_tta"]["rmse"], abs=1e-3)
    assert np.abs(one_pass - onnx_pred).mean() > 0.01


def test_killed_run_resumes_from_its_last_checkpoint(tmp_path, fkd, monkeypatch):
    small = fkd.subset(slice(0, 96))
    config = recipe("default", model="lenet5", epochs=5, batch_size=32, flip_tta=False)
    fit_module(config, small, None, tmp_path, progress=False)
    last = tmp_path / "last.safetensors"
    assert load_tree(last)["epoch"] == 4
    # A kill before the run finished leaves no "done" marker: the next call resumes, it does not restart.
    (tmp_path / "done").unlink()
    steps = []
    original = KeypointModule.training_step
    monkeypatch.setattr(KeypointModule, "training_step", lambda self, *a: steps.append(1) or original(self, *a))
    # Killed during epoch 5 after logging it: the resumed run does epoch 5 again, logged once.
    fields = open(tmp_path / "metrics.csv").readline().strip().split(",")
    with open(tmp_path / "metrics.csv", "a", newline="") as log:
        csv.DictWriter(log, fields).writerow({"epoch": 5, "train_loss": 9.9})
    module = fit_module(config.but(epochs=7), small, None, tmp_path, progress=False)
    steps_per_epoch = 96 // 32
    assert len(steps) == 2 * steps_per_epoch  # epochs 5 and 6 only
    assert (tmp_path / "done").exists()
    # Lightning's CSV logger deleted the log it found: every epoch of both calls stays, once each.
    epochs = [int(row["epoch"]) for row in csv.DictReader(open(tmp_path / "metrics.csv")) if row["train_loss"]]
    assert epochs == list(range(7)), epochs
    assert load_tree(tmp_path / "best.safetensors")["global_step"] == 7 * steps_per_epoch
    pred = predict(module.model, small.images[:4])
    assert np.isfinite(pred).all()


def test_resumed_run_keeps_the_patience_it_is_given_now(tmp_path, fkd):
    """Lightning restores a checkpoint's patience: a run resumed with more stopped at once."""
    from pytorch_lightning.callbacks import EarlyStopping

    train, val = fkd.subset(slice(0, 96)), fkd.subset(slice(96, 160))
    config = recipe("default", model="lenet5", epochs=5, batch_size=32, flip_tta=False, patience=40)
    fit_module(config, train, val, tmp_path, progress=False)
    # As if it had gone 39 epochs without beating a score it cannot beat: one more stops patience 40.
    last = tmp_path / "last.safetensors"
    tree = load_tree(last)
    key = EarlyStopping("val_rmse", mode="min").state_key  # where runs before this change kept it too
    tree["callbacks"][key].update(wait_count=39, best_score=torch.tensor(0.0))
    save_tree(tree, last)
    (tmp_path / "done").unlink()

    fit_module(config.but(epochs=8, patience=100), train, val, tmp_path, progress=False)
    epochs = [int(row["epoch"]) for row in csv.DictReader(open(tmp_path / "metrics.csv")) if row["train_loss"]]
    assert epochs == list(range(8)), epochs


def test_gpu_runs_leave_the_other_cores_free(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    try:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        torch.set_num_threads(8)
        limit_host_threads()
        assert torch.get_num_threads() == GPU_HOST_THREADS
        monkeypatch.setenv("OMP_NUM_THREADS", "8")  # the user's word wins
        torch.set_num_threads(8)
        limit_host_threads()
        assert torch.get_num_threads() == 8
        monkeypatch.delenv("OMP_NUM_THREADS")
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # CPU training keeps every core
        limit_host_threads()
        assert torch.get_num_threads() == 8
    finally:
        torch.set_num_threads(before)


def test_models_of_framed_photo_crops_report_pixel_centres(tmp_path, shared_data):
    """Their labels are pixel centres: the learned flip offset must not be subtracted at inference;
    Kaggle-layout models, whose label origin is unknown, keep theirs."""
    samples, scheme = read_landmark_csv(shared_data / "w300/faces/keypoints.csv")
    crops, _ = aligned_crops(samples[:96], scheme)
    crops.groups = None  # as a data set without identities, or photos, to hold out
    save_packed(crops, tmp_path / "crops.npz")
    config = recipe("photo68", model="lenet5", epochs=1, batch_size=32, val_fraction=0.25)
    train_run(config, tmp_path / "crops.npz", tmp_path / "run", progress=False)
    learned = load_file(str(tmp_path / "run" / "model.safetensors"))["label_offset"]
    assert config.flip_tta and config.learn_label_offset and float(learned) != 0.0
    assert KeypointModel(tmp_path / "run").label_offset == 0.0
    card = (tmp_path / "run" / "card.md").read_text()
    assert "as pixel centres" in card
    # No --val-groups: the card says the rows were held out at random, not "unknown identities".
    assert "held out at random" in card and "unknown" not in card

    # Again on the finished run: nothing trained, nothing rewritten; other settings are refused.
    files = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    (tmp_path / "crops.npz").unlink()  # a complete run reads no data (it took a minute to load for nothing)
    again = train_run(config, tmp_path / "crops.npz", tmp_path / "run", progress=False)
    assert again["complete"] and again["val"] == json.loads(files["scores.json"])["val"]
    with pytest.raises(FacepointsError, match="complete, trained with epochs=1; give a new --out to train with epochs=3"):
        train_run(config.but(epochs=3), tmp_path / "crops.npz", tmp_path / "run", progress=False)
    assert files == {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}


def test_progress_counts_epochs_from_one_and_names_each_stage(tmp_path, fkd, monkeypatch):
    """--epochs 2 reads epoch 1/2 then 2/2 (Lightning's own bar: 0/1, 1/1); the pseudo strategy
    says which of its two trainings runs, and estimates the time left for both."""
    from types import SimpleNamespace

    from facepoints.training import strategies
    from facepoints.training.progress import TrainingProgress

    bar = TrainingProgress("stage 1/2: masked", later_epochs=4)
    bar._trainer = SimpleNamespace(max_epochs=4)
    assert bar._get_train_description(0) == "stage 1/2: masked · epoch 1/4"
    from facepoints.training import progress

    monkeypatch.setattr(progress.time, "monotonic", lambda: 1000.0)  # a fixed clock: no drift on a busy machine
    bar._started, bar._first_epoch = 990.0, 0  # two epochs in 10 s: 2 + 4 left, 30 s
    assert bar._get_train_description(2) == "stage 1/2: masked · epoch 3/4 · at most 0:00:30 left"
    monkeypatch.undo()

    stages, real_fit = [], strategies.fit_module
    monkeypatch.setattr(strategies, "fit_module", lambda cfg, ks, val, folder, progress: stages.append(
        (progress.stage, progress.later_epochs)) or real_fit(cfg, ks, val, folder, progress=False))
    config = recipe("default", model="lenet5", epochs=1, batch_size=32)
    strategies.fit_predictor(config, fkd.subset(slice(0, 64)), None, tmp_path)
    assert stages == [("stage 1/2: masked", 1), ("stage 2/2: pseudo-labels", 0)]


def test_photo_recipe_is_the_bundled_model_and_other_models_drop_its_options():
    assert recipe("photo68").model_cfg == {"width": 48} and recipe("photo68").epochs == 300
    assert recipe("photo68", model="lenet5").model_cfg == {}  # lenet5 takes no width
    assert recipe("photo68", model_cfg={"width": 32}).model_cfg == {"width": 32}
    lenet = recipe("photo68", model="lenet5")
    assert create_model(lenet.model, 68, in_chans=3, image_size=128, **lenet.model_cfg) is not None


def test_exports_leave_flip_test_to_the_runtime_unless_it_sits_inside_an_ensemble():
    from facepoints.flip import FlipTest
    from facepoints.models.wrappers import Ensemble, FlipAveraged
    from facepoints.schemes import get_scheme
    from facepoints.training.run import _runtime_flip_test

    permutation = get_scheme("fkd15").flip_permutation()
    flipped = FlipAveraged(create_model("lenet5", 15, 1, 96), permutation, 0.5)
    graph, record = _runtime_flip_test(flipped)
    assert graph is flipped.model
    assert record == {"flip_test": FlipTest(tuple(permutation), 0.5)}
    # Members learn their own flip axes, so an ensemble's averages stay inside its graph.
    ensemble = Ensemble([FlipAveraged(create_model("lenet5", 15, 1, 96), permutation, o) for o in (0.5, 0.4)])
    assert _runtime_flip_test(ensemble) == (ensemble, {"flip_in_graph": True})
    plain = create_model("lenet5", 15, 1, 96)
    assert _runtime_flip_test(plain) == (plain, {"flip_in_graph": False})
