"""The graphed training step (default on one GPU) must change the speed, never the maths.

These need a GPU: CI has none, so they run where the GPU work is done (the device machine)."""

import pytest
import torch

from facepoints.data.fkd import read_fkd_training
from facepoints.training.config import recipe
from facepoints.training.fit import build_module
from facepoints.training.graphed import GraphedBackward

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")


def _batches(fkd_dir, count=4, size=32):
    ks = read_fkd_training(fkd_dir / "training.zip")
    arrays = (ks.images, ks.points, ks.mask)
    return [tuple(torch.from_numpy(a[i * size:(i + 1) * size].copy()).cuda() for a in arrays) for i in range(count)]


def _train(module, loss_and_gradients, batches):
    optimizer = torch.optim.AdamW([p for p in module.parameters() if p.requires_grad], lr=1e-3, fused=True)
    losses = []
    for batch in batches:
        losses.append(loss_and_gradients(*batch).item())
        optimizer.step()
        module.zero_grad(set_to_none=True)  # as Lightning does before each validation
    return losses, [p.detach().clone() for p in module.parameters()]


def test_graph_replays_train_exactly_as_eager_steps(fkd_dir):
    """No random augmentation, so both see the same batches: same losses, same weights."""
    config = recipe("default", augment="none")
    batches = _batches(fkd_dir)
    torch.manual_seed(0)
    eager_module = build_module(config, read_fkd_training(fkd_dir / "training.zip").subset(slice(0, 32))).cuda()
    graphed_module = build_module(config, read_fkd_training(fkd_dir / "training.zip").subset(slice(0, 32))).cuda()
    graphed_module.load_state_dict(eager_module.state_dict())

    def eager(*batch):
        loss = eager_module.augmented_loss(*batch)
        loss.backward()
        return loss

    eager_losses, eager_weights = _train(eager_module, eager, batches)
    graphed_losses, graphed_weights = _train(graphed_module, GraphedBackward(graphed_module.augmented_loss, graphed_module), batches)
    assert graphed_losses == pytest.approx(eager_losses, rel=1e-4)
    assert eager_losses[-1] < eager_losses[0]
    for eager_weight, graphed_weight in zip(eager_weights, graphed_weights):
        torch.testing.assert_close(graphed_weight, eager_weight, rtol=1e-4, atol=1e-5)
