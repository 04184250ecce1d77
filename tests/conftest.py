"""Shared fixtures: the real annotated faces beside the checkout (../shared/data)."""

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
