"""Shared fixtures for the training-side tests: the package on sys.path and the shared data."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))


@pytest.fixture(scope="session")
def shared_examples():
    """Every world of the 17 shared ShapeWorld sets, with its published PNG and labels."""
    from training.calibrate import data_dir, load_examples

    if not data_dir().is_dir():
        pytest.skip(f"shared ShapeWorld data not found at {data_dir()} (set SHAPEWORLD_DATA)")
    return load_examples()
