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
