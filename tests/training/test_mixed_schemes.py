"""Training on sets of different schemes: each label pulls exactly the model points it is made of."""

import json

import numpy as np
import pytest
import torch

from facepoints.data.aligned import aligned_crops
from facepoints.data.landmarks import read_landmark_csv
from facepoints.data.load import load_training_set
from facepoints.data.mixed import block_of, stack_schemes
from facepoints.data.packed import save_packed
from facepoints.errors import FacepointsError
from facepoints.runtime import KeypointModel
from facepoints.schemes import mapping_matrix
from facepoints.training.config import recipe
from facepoints.training.heads import SchemeHeads
from facepoints.training.module import masked_loss
from facepoints.training.resident import draw_weights
from facepoints.training.run import train_run

STACKED = stack_schemes(["ibug68", "celeba5"])


def _one_label(name: str, xy) -> tuple[torch.Tensor, torch.Tensor]:
    points = torch.zeros(1, STACKED.num_keypoints, 2)
    mask = torch.zeros(1, STACKED.num_keypoints, dtype=torch.bool)
    k = STACKED.index(name)
    points[0, k], mask[0, k] = torch.tensor(xy), True
    return points, mask


def test_a_five_point_label_pulls_exactly_the_mapped_68_point_combination():
    pred = torch.rand(1, 68, 2, generator=torch.Generator().manual_seed(0)) * 100
    pred.requires_grad_(True)
    points, mask = _one_label("celeba5:lefteye", (30.0, 40.0))  # the image's left eye: ibug68's 36-41
    loss = masked_loss(SchemeHeads(STACKED)(pred), points, mask, "mse")
    loss.backward()
    eye = list(range(36, 42))
    mapped = pred.detach()[0, eye].mean(0)
    # loss = |mean(eye) - label|^2 / 2 coordinates: each of the six points gets 1/6 of (mean - label)
    expected = (mapped - torch.tensor([30.0, 40.0])) / 6
    assert torch.allclose(pred.grad[0, eye], expected.expand(6, 2), atol=1e-5)
    others = [k for k in range(68) if k not in eye]
    assert torch.count_nonzero(pred.grad[0, others]) == 0
    assert torch.isclose(loss, ((mapped - torch.tensor([30.0, 40.0])) ** 2).sum() / 2)


def test_a_nose_label_pulls_point_30_alone_and_a_68_point_label_itself():
    pred = torch.zeros(1, 68, 2, requires_grad=True)
    points, mask = _one_label("celeba5:nose", (2.0, 4.0))
    masked_loss(SchemeHeads(STACKED)(pred), points, mask, "l1").backward()
    assert torch.count_nonzero(pred.grad[0].abs().sum(1)) == 1 and pred.grad[0, 30].tolist() == [-0.5, -0.5]
    pred.grad = None
    points, mask = _one_label("jaw_3", (2.0, 4.0))
    masked_loss(SchemeHeads(STACKED)(pred), points, mask, "l1").backward()
    assert torch.count_nonzero(pred.grad[0].abs().sum(1)) == 1 and pred.grad[0, 3].tolist() == [-0.5, -0.5]


def test_learned_mappings_move_with_the_face_and_its_mirror():
    """Whatever they learn, the mapped points are affine combinations within a region of the face
    (they rotate, scale and mirror with the model's points), and a mirrored face maps to the mirror."""
    heads = SchemeHeads(stack_schemes(["ibug68", "fkd15", "celeba5"]))
    with torch.no_grad():
        heads.change.normal_(0, 0.3, generator=torch.Generator().manual_seed(1))
    weights = heads.weights()
    assert torch.allclose(weights.sum(1), torch.ones(len(weights)), atol=1e-5)
    nose_row = heads.scheme.index("celeba5:nose")
    assert set(torch.nonzero(weights[nose_row]).flatten().tolist()) <= set(range(27, 36))
    points = torch.rand(2, 68, 2, generator=torch.Generator().manual_seed(2)) * 96
    angle = torch.tensor(0.7)
    rotation = torch.tensor([[angle.cos(), -angle.sin()], [angle.sin(), angle.cos()]]) * 1.3
    shift = torch.tensor([5.0, -3.0])
    assert torch.allclose(heads(points @ rotation.T + shift), heads(points) @ rotation.T + shift, atol=1e-3)
    mirrored = points.clone()
    mirrored[..., 0] = 95 - mirrored[..., 0]
    mapped_mirror = heads(points)
    mapped_mirror[..., 0] = 95 - mapped_mirror[..., 0]
    assert torch.allclose(heads(mirrored[:, heads.target_flip]), mapped_mirror[:, heads.stacked_flip], atol=1e-3)


def test_balance_zero_draws_every_set_equally_often():
    parts = np.array([0] * 900 + [1] * 100)
    weights = draw_weights(parts, 0.0)
    drawn = torch.multinomial(weights, 20000, replacement=True, generator=torch.Generator().manual_seed(0))
    share = (torch.from_numpy(parts)[drawn] == 1).float().mean().item()
    assert 0.48 < share < 0.52
    assert torch.allclose(draw_weights(parts, 0.5)[parts == 1].sum() / draw_weights(parts, 0.5).sum(),
                          torch.tensor(10 / 40, dtype=torch.float64))


@pytest.fixture(scope="module")
def mixed_files(tmp_path_factory, shared_data):
    folder = tmp_path_factory.mktemp("mixed")
    for name, csv in (("w300", "w300/faces/keypoints.csv"), ("mtfl", "mtfl/keypoints.csv")):
        samples, scheme = read_landmark_csv(shared_data / csv)
        crops, _ = aligned_crops(samples[:80], scheme, source=csv)
        save_packed(crops, folder / f"{name}.npz")
    return folder / "w300.npz", folder / "mtfl.npz"


def test_sets_of_two_schemes_load_as_one_with_each_label_in_its_block(mixed_files):
    ks = load_training_set(list(mixed_files))
    assert ks.scheme.parts == ("ibug68", "celeba5") and ks.points.shape == (160, 73, 2)
    assert ks.mask[:80, :68].all() and not ks.mask[:80, 68:].any()
    assert ks.mask[80:, 68:].all() and not ks.mask[80:, :68].any()
    assert ks.parts.tolist() == [0] * 80 + [1] * 80
    assert np.allclose(block_of(ks, "celeba5").points, load_training_set([mixed_files[1]]).points)
    with pytest.raises(FacepointsError, match="no mapping from celeba5 to ibug68"):
        load_training_set(list(mixed_files[::-1]))


def test_a_mixed_run_scores_each_scheme_and_exports_its_learned_five_points(tmp_path, mixed_files):
    config = recipe("photo68", model="lenet5", epochs=1, batch_size=32, val_fraction=0.25, balance=0.0)
    result = train_run(config, list(mixed_files), tmp_path / "run", progress=False)
    assert result["val"]["count"] > 0 and result["val_by_scheme"]["celeba5"]["count"] > 0
    model = KeypointModel(tmp_path / "run")
    learned = np.asarray(model.record.mappings["celeba5"])
    assert model.scheme.name == "ibug68" and learned.shape == (5, 68)
    assert np.allclose(learned.sum(1), 1, atol=1e-4) and not np.allclose(learned, mapping_matrix("ibug68", "celeba5"))
    assert json.loads((tmp_path / "run" / "config.json").read_text())["balance"] == 0.0
    with pytest.raises(FacepointsError, match="--strategy masked"):
        train_run(config.but(strategy="pseudo"), list(mixed_files), tmp_path / "pseudo", progress=False)
