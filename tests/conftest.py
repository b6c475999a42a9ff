"""Shared fixtures: the real-data folder from SVMAC_DATA (tests that need it skip without it)."""

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The SVMAC_DATA folder; skips the test when the variable is unset or the folder missing."""
    path = os.environ.get("SVMAC_DATA")
    if not path:
        pytest.skip("SVMAC_DATA is not set")
    root = Path(path).expanduser()
    if not root.is_dir():
        pytest.skip(f"SVMAC_DATA folder {root} does not exist")
    return root


@pytest.fixture(scope="session")
def packaged_photo() -> Path:
    """A real photo that ships inside an installed package (matplotlib): Grace Hopper, head and
    shoulders, facing the camera. Always available, so image tests run without SVMAC_DATA."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
