"""The world bank: reproducible from its seed whatever the worker count; batches are well-formed."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from training.data import DataConfig, generate_bank, make_batch
from training.tokenizer import WordTokenizer

CONFIG = DataConfig(seed=3, worlds=40, max_entities=6, match_captions=6, workers=1)


@pytest.fixture(scope="module")
def bank():
    return generate_bank(CONFIG, log=lambda *_: None)


def test_bank_is_reproducible_and_independent_of_workers(bank):
    again = generate_bank(dataclasses.replace(CONFIG, workers=2), log=lambda *_: None)
    for field in ("images", "caption_ids", "match_ids", "match_labels", "match_valid", "entity_counts"):
        assert torch.equal(getattr(bank, field), getattr(again, field)), field


def test_bank_contents(bank):
    tokenizer = WordTokenizer(bank.vocabulary)
    assert bank.images.shape == (40, 100, 100, 3) and bank.images.dtype == torch.uint8
    assert (bank.caption_ids[:, 0] == tokenizer.cls_id).all()
    assert ((bank.caption_ids == tokenizer.sep_id).sum(dim=1) == 1).all()
    assert bank.match_valid.any(dim=1).all()
    labels = bank.match_labels[bank.match_valid]
    assert 0.2 < float(labels.mean()) < 0.8  # both true and false statements
    assert (bank.entity_counts >= 1).all() and (bank.entity_counts <= 6).all()
    assert bank.cell_colors.shape == (40, 13, 13) and int(bank.cell_colors.max()) <= 7
    assert bank.cell_shapes.shape == (40, 13, 13) and int(bank.cell_shapes.max()) <= 8
    covered = (bank.cell_colors > 0).flatten(1).any(dim=1)
    assert covered.all()  # every scene has at least one shape, so some cell shows it


def test_bank_save_and_load(bank, tmp_path):
    bank.save(tmp_path / "bank.pt")
    loaded = type(bank).load(tmp_path / "bank.pt")
    assert torch.equal(loaded.match_ids, bank.match_ids) and loaded.forms == bank.forms


def test_batch_has_exactly_k_statements_per_image_in_image_order(bank):
    worlds = torch.tensor([0, 5, 7])
    batch = make_batch(bank, worlds, per_image=4, generator=torch.Generator().manual_seed(0))
    assert batch.images.shape[0] == 3 and batch.caption_ids.shape[0] == 3
    assert batch.match_ids.shape[0] == 12 and batch.match_mask.shape == batch.match_ids.shape
    for row in range(12):
        world = int(worlds[row // 4])
        stored = bank.match_ids[world][bank.match_valid[world]]
        ids = batch.match_ids[row]
        matches = [s for s in stored if torch.equal(s[: ids.numel()], ids) and not s[ids.numel():].any()]
        assert matches, f"statement {row} is not one of world {world}'s"
    assert (batch.match_ids[:, -1] != 0).any()  # trimmed to the longest statement


def test_batch_is_seeded(bank):
    worlds = torch.arange(8)
    a = make_batch(bank, worlds, 4, torch.Generator().manual_seed(5))
    b = make_batch(bank, worlds, 4, torch.Generator().manual_seed(5))
    assert torch.equal(a.match_ids, b.match_ids) and torch.equal(a.match_labels, b.match_labels)


def test_cell_labels_name_what_covers_each_cell():
    from training.data import cell_labels
    from training.world import COLORS, SHAPES, Entity, World

    square = Entity(shape="square", color="red", shade=0.0, center=(0.5, 0.5), size=(0.1, 0.1), rotation=0.0)
    circle = Entity(shape="circle", color="blue", shade=0.0, center=(0.5, 0.5), size=(0.05, 0.05), rotation=0.0)
    colors, shapes = cell_labels(World((square, circle)), 100, 13)
    assert colors[0, 0] == 0 and shapes[12, 12] == 0  # background
    assert (colors[6, 6], shapes[6, 6]) == (1 + COLORS.index("blue"), 1 + SHAPES.index("circle"))  # drawn on top
    assert (colors[5, 5], shapes[5, 5]) == (1 + COLORS.index("red"), 1 + SHAPES.index("square"))


def test_object_labels_mark_each_centre_with_its_area_and_shade():
    from training.data import AREA_SCALE, SHADE_SCALE, object_labels
    from training.world import Entity, World

    left = Entity(shape="square", color="red", shade=0.2, center=(0.1, 0.5), size=(0.1, 0.1), rotation=0.0)
    right = Entity(shape="circle", color="blue", shade=-0.4, center=(0.95, 0.2), size=(0.05, 0.05), rotation=0.0)
    labels = object_labels(World((left, right)), 13)
    assert labels[..., 0].sum() == 2  # one centre token per entity
    assert labels[6, 1].tolist() == pytest.approx([1.0, AREA_SCALE * left.area, SHADE_SCALE * 0.2])
    assert labels[2, 12].tolist() == pytest.approx([1.0, AREA_SCALE * right.area, SHADE_SCALE * -0.4])
    assert labels[0, 0].tolist() == [0.0, 0.0, 0.0]


def test_mention_targets_say_whether_each_phrase_is_shown():
    from training.data import mention_targets
    from training.vocab import vocabulary
    from training.world import COLORS, SHAPES

    tokenizer = WordTokenizer(vocabulary())
    texts = ["there is a red square .", "a blue shape is to the left of a circle .", "two green crosses are red shapes .", "a shape is red ."]
    ids, _ = tokenizer.pad([tokenizer.encode(text) for text in texts])
    colors = torch.zeros(1, 169, dtype=torch.long)
    shapes = torch.zeros(1, 169, dtype=torch.long)
    colors[0, 0], shapes[0, 0] = 1 + COLORS.index("red"), 1 + SHAPES.index("square")
    colors[0, 5], shapes[0, 5] = 1 + COLORS.index("blue"), 1 + SHAPES.index("circle")
    targets = mention_targets(ids, torch.zeros(4, dtype=torch.long), colors, shapes, tuple(tokenizer.vocabulary))
    labelled = [[(tokenizer.vocabulary[i], v) for i, v in zip(row.tolist(), t.tolist()) if v >= 0] for row, t in zip(ids, targets)]
    assert labelled == [
        [("square", 1.0)],
        [("shape", 1.0), ("circle", 1.0)],
        [("crosses", 0.0), ("shapes", 1.0)],
        [],  # "a shape" alone: every scene shows one
    ]
