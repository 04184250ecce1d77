"""The compiled training step (default on a GPU) must change the speed, never the maths."""

import numpy as np
import pytest
import torch
import torch._inductor.config as inductor_config
from torch._dynamo.utils import counters

from facepoints.data.fkd import read_fkd_training
from facepoints.errors import FacepointsError
from facepoints.training.config import recipe
from facepoints.training.fit import build_module, fit_module
from facepoints.training.strategies import predict


@pytest.fixture(scope="module")
def fkd_train(fkd_dir):
    return read_fkd_training(fkd_dir / "training.zip")


@pytest.fixture(autouse=True)
def same_random_numbers_as_eager():
    # Inductor draws its own random stream by default; eager's lets the two be compared exactly.
    torch._dynamo.reset()
    counters.clear()
    with inductor_config.patch(fallback_random=True):
        yield
    torch._dynamo.reset()


def _batch(ks):
    return torch.from_numpy(ks.images.copy()), torch.from_numpy(ks.points), torch.from_numpy(ks.mask)


@pytest.mark.slow  # compiling the default model's step and its backward: about 2 minutes on 2 cores
@pytest.mark.usefixtures("cxx_compiler")
def test_compiled_default_step_gives_eager_loss_and_gradients(fkd_train):
    rows = fkd_train.subset(slice(0, 32))
    module = build_module(recipe("default"), rows)
    results = []
    for step in (module.augmented_loss, torch.compile(module.augmented_loss, dynamic=False)):
        torch.manual_seed(0)
        loss = step(*_batch(rows))
        loss.backward()
        results.append((loss.item(), [p.grad.clone() for p in module.parameters() if p.grad is not None]))
        module.zero_grad()
    (eager_loss, eager_grads), (compiled_loss, compiled_grads) = results
    assert compiled_loss == pytest.approx(eager_loss, rel=1e-5)
    assert len(compiled_grads) == len(eager_grads) > 20
    for eager, compiled in zip(eager_grads, compiled_grads):
        torch.testing.assert_close(compiled, eager, rtol=1e-3, atol=1e-3)


# fit_module trains on a GPU where there is one: these two test the CPU's compiler path.
on_the_cpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks torch.compile on the CPU")


@pytest.mark.slow  # compiles a training step and its backward on the CPU
@on_the_cpu
@pytest.mark.usefixtures("cxx_compiler")
def test_training_with_compile_ends_where_eager_training_does(tmp_path, fkd_train):
    rows = fkd_train.subset(slice(0, 128))
    config = recipe("default", model="lenet5", strategy="masked", epochs=2, batch_size=32, flip_tta=False)
    predictions, graphs = [], []
    for compile_step in (False, True):
        module = fit_module(config.but(compile=compile_step), rows, None, tmp_path / str(compile_step), progress=False)
        predictions.append(predict(module.model, rows.images[:16]))
        graphs.append(counters["stats"]["unique_graphs"])
    assert graphs == [0, 1]  # eager compiled nothing; compiled, one graph served every step
    eager, compiled = predictions
    assert np.abs(eager - predict(build_module(config, rows).model, rows.images[:16])).max() > 0.5  # it trained
    np.testing.assert_allclose(compiled, eager, atol=0.05)


@pytest.mark.slow  # torch.compile traces the step before it reaches the missing compiler
@on_the_cpu
def test_a_step_that_cannot_compile_names_the_way_out(tmp_path, fkd_train):
    config = recipe("default", model="lenet5", strategy="masked", epochs=1, batch_size=32, compile=True)
    with inductor_config.patch({"cpp.cxx": ("/nonexistent/g++",)}), pytest.raises(FacepointsError) as error:
        fit_module(config, fkd_train.subset(slice(0, 64)), None, tmp_path, progress=False)
    message = str(error.value)
    assert "\n" not in message and "compiler" in message and message.endswith("train with --no-compile")


def test_augmentation_stays_float32_under_mixed_precision(fkd_train):
    rows = fkd_train.subset(slice(0, 64))
    module = build_module(recipe("default"), rows)
    torch.manual_seed(0)
    exact = module.augmented(*_batch(rows))
    torch.manual_seed(0)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # what bf16-mixed training wraps the step in
        mixed = module.augmented(*_batch(rows))
    for a, b in zip(exact, mixed):
        assert a.dtype == b.dtype
        torch.testing.assert_close(b, a, rtol=0, atol=1e-5)
