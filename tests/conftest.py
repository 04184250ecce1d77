"""Shared fixtures: the real annotated faces beside the checkout (../shared/data)."""

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"test data not found at {SHARED_DATA}; the tests need ../shared/data")
    return SHARED_DATA


@pytest.fixture(scope="session")
def fkd_dir(shared_data) -> Path:
    return shared_data / "fkd"


@pytest.fixture
def cxx_compiler() -> None:
    """torch.compile on the CPU builds C++: skip, saying why, where no compiler is installed
    (.ci/run installs g++)."""
    if not (shutil.which("g++") or shutil.which("c++")):
        pytest.skip("torch.compile on the CPU needs a C++ compiler (g++)")


@pytest.fixture(scope="session")
def bundled_float_network():
    """name -> the bundled model's inference graph (flip averaging included) rebuilt in float32
    from its half-precision weights: predict(uint8 crops) -> points, the reference its ONNX file
    should follow."""
    import torch
    from safetensors.torch import load_file

    from facepoints.explain import ExplainableModel
    from facepoints.explain.model import to_tensor
    from facepoints.training.weights import predictor_skeleton

    def build(name: str):
        model = ExplainableModel(name)
        network = predictor_skeleton(model.config, model.scheme, model.channels, model.image_size[0])
        network.load_state_dict({k: v.float() for k, v in load_file(str(model.path)).items()})
        network.eval()

        @torch.no_grad()
        def predict(crops):
            return network(to_tensor(crops)).numpy()

        return predict

    return build


@pytest.fixture(scope="session")
def keypointer():
    """The bundled default model on two threads, built once (test_serve* use their own, on one)."""
    from facepoints.inference import FaceKeypointer

    return FaceKeypointer(threads=2)
