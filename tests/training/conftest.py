"""Shared fixtures for the training-side tests: the package on sys.path and the ShapeWorld data."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))


@pytest.fixture(scope="session")
def shared_examples():
    """Every world of the 17 ShapeWorld sets in tests/data/shapeworld, with its published PNG and labels."""
    from training.calibrate import load_examples

    return load_examples()
