"""The relational stage's starting model: a new scorer over the package's encoder, or the package's own scorer trained further."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from training.package_weights import load_package_model
from training.relational_stage import package_model

PACKAGE = Path(__file__).resolve().parents[2] / "models" / "shapeworld-fusion"


@torch.no_grad()
def test_a_further_stage_starts_from_the_packages_own_scorer():
    source, _ = load_package_model(PACKAGE)
    kept, _ = package_model(PACKAGE, "relational", source.config.slot_reader, keep_scorer=True)
    new, _ = package_model(PACKAGE, "relational", source.config.slot_reader)

    for name, weight in source.fusion.state_dict().items():
        assert torch.equal(kept.fusion.state_dict()[name], weight), name
    assert any(not torch.equal(new.fusion.state_dict()[name], weight) for name, weight in source.fusion.state_dict().items())
    for name, weight in source.encoder.state_dict().items():
        assert torch.equal(new.encoder.state_dict()[name], weight), name


def test_a_scorer_of_another_reader_cannot_be_trained_further():
    source, _ = load_package_model(PACKAGE)
    other = "token" if source.config.slot_reader == "peaks" else "peaks"
    with pytest.raises(ValueError, match="cannot be trained on"):
        package_model(PACKAGE, "relational", other, keep_scorer=True)
