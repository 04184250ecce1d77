import pytest
import torch

from facepoints.errors import ModelError
from facepoints.training.checkpoint_io import load_tree, save_tree


def test_nested_state_round_trips_with_key_types_and_tuples(tmp_path):
    tree = {
        "state_dict": {"w": torch.arange(6.0).view(2, 3)},
        "optimizer_states": [{"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.ones(2)}},
                              "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0]}]}],
        "epoch": 4, "flag": None, "name": "x",
    }
    save_tree(tree, tmp_path / "c.safetensors")
    back = load_tree(tmp_path / "c.safetensors")
    assert torch.equal(back["state_dict"]["w"], tree["state_dict"]["w"])
    state = back["optimizer_states"][0]["state"]
    assert list(state) == [0] and float(state[0]["step"]) == 3.0
    assert back["optimizer_states"][0]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert (back["epoch"], back["flag"], back["name"]) == (4, None, "x")


def test_shared_storage_is_saved_as_separate_tensors(tmp_path):
    base = torch.zeros(4)
    save_tree({"a": base, "b": base[:2]}, tmp_path / "c.safetensors")
    back = load_tree(tmp_path / "c.safetensors")
    assert back["a"].shape == (4,) and back["b"].shape == (2,)


def test_objects_that_need_pickle_are_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot store"):
        save_tree({"x": object()}, tmp_path / "c.safetensors")
    assert not (tmp_path / "c.safetensors").exists()


def test_corrupt_or_foreign_files_give_one_line_errors(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 10)
    with pytest.raises(ModelError, match="bad.safetensors: not a readable"):
        load_tree(bad)
    with pytest.raises(ModelError, match="not found"):
        load_tree(tmp_path / "missing.safetensors")
