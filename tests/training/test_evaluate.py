"""Evaluation mechanics on two shared worlds with a tiny random model."""
from __future__ import annotations

import shutil

import pytest
import torch

from training.calibrate import data_dir
from training.evaluate import evaluate_model, names_colour_and_shape
from training.model import CaptionFusionModel, ModelConfig
from training.report import markdown_table, targets_table
from training.tokenizer import WordTokenizer
from training.vocab import vocabulary


def test_informative_captions_name_a_colour_and_a_shape():
    assert names_colour_and_shape("a red square is to the left of a blue circle .")
    assert names_colour_and_shape("there are two green crosses .")
    assert not names_colour_and_shape("there is a shape .")
    assert not names_colour_and_shape("a shape is red .")


def test_evaluation_of_a_small_set(tmp_path):
    source = data_dir() / "relational-spatial_twoshapes"
    target = tmp_path / "relational-spatial_twoshapes"
    target.mkdir()
    lines = (source / "worlds.jsonl").read_text().splitlines()[:2]
    (target / "worlds.jsonl").write_text("\n".join(lines) + "\n")
    for i in range(2):
        shutil.copyfile(source / f"world-{i}.png", target / f"world-{i}.png")
    torch.manual_seed(0)
    tokenizer = WordTokenizer(vocabulary())
    model = CaptionFusionModel(ModelConfig(vocab_size=len(tokenizer), cnn_channels=(8, 16), n_embd=32, n_head=2,
                                           n_encoder_layer=1, n_decoder_layer=1, n_fusion_layer=1, n_positions=12))
    results = evaluate_model(model, tokenizer, tmp_path, log=lambda *_: None)
    (row,) = results["sets"]
    assert row["worlds"] == 2 and row["statements"] == 10
    assert 0.0 <= row["agreement"] <= 1.0
    assert row["agreement"] * 10 == pytest.approx(round(row["agreement"] * 10))
    assert row["worlds_with_two_or_more"] == 2
    assert {t["measure"] for t in results["targets"]} >= {"agreement, relational-spatial_twoshapes", "caption truth rate, all images"}
    assert "relational-spatial_twoshapes" in markdown_table(results) and "| met |" in targets_table(results)


def _entity_json(shape: str, color: str, x: float) -> dict:
    return {"shape": {"name": shape, "size": {"x": 0.1, "y": 0.1}}, "color": {"name": color, "shade": 0.0},
            "center": {"x": x, "y": 0.5}, "rotation": 0.0}


def test_relation_decides_counts_false_relations_about_present_objects_only():
    from training.evaluate import _relation_decides

    record = {
        "world_model": {"entities": [_entity_json("square", "red", 0.2), _entity_json("circle", "blue", 0.8)]},
        "captions": [
            "a red square is to the right of a blue circle .",  # false, both objects there: counted
            "a blue circle is to the left of a red square .",  # false, both there: counted
            "a green square is to the right of a blue circle .",  # false, no green square
            "a red square is to the left of a blue circle .",  # true
        ],
    }
    labels = [False, False, False, True]
    agree = [False, True, True, True]
    assert _relation_decides([record], record["captions"], labels, agree) == {"right": 1, "total": 2}
