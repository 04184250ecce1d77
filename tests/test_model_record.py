"""The model record: one layout written, every layout facepoints wrote read back; one flip, two array kinds."""

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open

from facepoints.crop import FKD_FRAMING, PHOTO_FRAMING, Framing
from facepoints.flip import FlipTest, average_with_mirror, mirror_points
from facepoints.model_record import METADATA_KEY, ModelRecord
from facepoints.runtime import BUNDLED, KeypointModel, bundled_model_path
from facepoints.schemes import get_scheme


def test_record_round_trips_through_metadata_and_properties():
    record = ModelRecord("fkd15", (96, 96), 1, FKD_FRAMING, 1.25, FlipTest((1, 0), 1.25), config='{"flip_tta": true}',
                         terms="research only")
    assert ModelRecord.from_metadata(record.to_metadata()) == record
    assert ModelRecord.from_properties(record.properties()) == record
    assert ModelRecord.from_metadata(json.loads(json.dumps(record.to_metadata()))) == record


@pytest.mark.parametrize("name", list(BUNDLED))
def test_bundled_files_read_as_records(name):
    record = KeypointModel(name).record
    assert record.flip_test is not None and not record.flip_in_graph and record.config and record.terms
    assert len(record.flip_test.permutation) == get_scheme(record.scheme).num_keypoints
    # Their weights predate the record: flat text keys, no framing, read by the same function.
    with safe_open(str(bundled_model_path(name).with_suffix(".safetensors")), framework="pt") as f:
        weights = ModelRecord.from_properties(f.metadata())
    assert (weights.scheme, weights.image_size, weights.channels, weights.config) == \
        (record.scheme, record.image_size, record.channels, record.config)


def test_older_layouts_are_upgraded():
    config = json.dumps({"model": "integral", "flip_tta": True})
    weights = ModelRecord.from_metadata({"config": config, "scheme": "ibug68", "image_size": "128", "channels": "3"})
    assert weights.image_size == (128, 128) and weights.channels == 3 and weights.framing == PHOTO_FRAMING
    assert weights.label_offset == 0.0
    # Exported before flip test moved to the runtime: the config's flip sits in the graph.
    assert weights.flip_in_graph and weights.flip_test is None
    later = ModelRecord.from_metadata({"config": config, "scheme": "ibug68", "image_size": [128, 128], "channels": 3,
                                       "framing": PHOTO_FRAMING.as_dict(), "flip_in_graph": False})
    assert not later.flip_in_graph
    with pytest.raises(ValueError, match="no framing recorded for 64 px crops"):
        ModelRecord.from_metadata({"scheme": "fkd15", "image_size": "64", "channels": "1"})
    with pytest.raises(KeyError):
        ModelRecord.from_metadata({"scheme": "fkd15", "image_size": [96, 96], "channels": 1,
                                   "framing": {"eye_midpoint": [48.3, 37.8]}})


def test_run_weights_hold_the_record(tmp_path):
    from safetensors.torch import save_file

    record = ModelRecord("celeba5", (128, 128), 3, Framing(128, ((48.0, 36.5), (80.0, 36.5))), config="{}")
    save_file({"x": torch.zeros(1)}, str(tmp_path / "w.safetensors"), metadata=record.properties())
    with safe_open(str(tmp_path / "w.safetensors"), framework="pt") as f:
        assert set(f.metadata()) == {METADATA_KEY}
        assert ModelRecord.from_properties(f.metadata()) == record


def test_mirror_points_is_its_own_inverse_and_swaps_sides():
    scheme = get_scheme("fkd15")
    perm = scheme.flip_permutation()
    points = np.random.default_rng(0).uniform(0, 96, (3, scheme.num_keypoints, 2)).astype(np.float32)
    once = mirror_points(points, 96, perm, 1.5)
    left, right = scheme.index("left_eye_center"), scheme.index("right_eye_center")
    assert once[0, left, 0] == np.float32(96 - 1 + 3.0) - points[0, right, 0] and once[0, left, 1] == points[0, right, 1]
    np.testing.assert_allclose(mirror_points(once, 96, perm, 1.5), points, atol=1e-5)
    assert once is not points and not np.shares_memory(once, points)


def test_numpy_and_torch_average_alike():
    """The runtime averages NumPy arrays, FlipAveraged tensors: the same function, the same numbers."""
    perm = get_scheme("ibug68").flip_permutation()
    rng = np.random.default_rng(1)
    direct, mirrored = (rng.uniform(0, 128, (4, 68, 2)).astype(np.float32) for _ in range(2))
    offset = float(np.float32(0.3203125))
    by_numpy = average_with_mirror(direct, mirrored, 128, np.asarray(perm), offset)
    by_torch = average_with_mirror(torch.from_numpy(direct), torch.from_numpy(mirrored), 128,
                                   torch.as_tensor(perm), torch.tensor(offset))
    assert by_numpy.dtype == np.float32 and np.array_equal(by_numpy, by_torch.numpy())
