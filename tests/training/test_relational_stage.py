"""The relational stage's starting model: a new scorer over the package's encoder, or the package's own scorer trained further."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from training.package_weights import load_package_model
from training.relational_stage import package_model, source_stages

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


def card_package(tmp_path: Path, training: str) -> Path:
    (tmp_path / "caption_service.json").write_text('{"name": "shapeworld-fusion", "version": "9.9.9"}')
    (tmp_path / "MODEL_CARD.md").write_text(f"# Card\n\n## Training\n\n{training}\n## Evaluation\n\nnot this\n")
    return tmp_path


def test_a_one_stage_card_is_one_stage_named_after_its_package(tmp_path):
    package = card_package(tmp_path, "- Trained on scenes.\n- Command: `train`\n")
    assert source_stages(package) == [{"title": "shapeworld-fusion 9.9.9", "lines": ["- Trained on scenes.", "- Command: `train`"]}]


def test_each_stage_of_the_source_card_is_listed_once_in_order(tmp_path):
    # A card whose stages wrapped the one before: the wrapper's empty header is dropped.
    package = card_package(tmp_path, "Stage 1: the package this stage starts from, x 1.0.\n\nStage 1: first.\n- a\nStage 2: second.\n- b\n- c\n\n"
                                     "Stage 2: third.\n\n- d\n")
    assert source_stages(package) == [{"title": "first", "lines": ["- a"]}, {"title": "second", "lines": ["- b", "- c"]},
                                      {"title": "third", "lines": ["- d"]}]


def test_the_bundled_cards_stages_carry_their_lines():
    stages = source_stages(PACKAGE)
    assert len(stages) >= 2 and all(stage["lines"] for stage in stages)
