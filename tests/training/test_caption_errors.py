"""caption-errors: the bundled decoder's greedy captions on generated scenes, every false one given a kind."""
from __future__ import annotations

from pathlib import Path

from training.caption_errors import measure
from training.language.generate import names_present_pair
from training.language.logic import Relation
from training.language.parser import parse
from training.package_weights import load_package_model
from training.tokenizer import WordTokenizer
from training.world import Entity, World

PACKAGE = Path(__file__).resolve().parents[2] / "models" / "shapeworld-fusion"


def test_every_judged_scene_is_in_one_band_and_every_false_caption_has_one_kind():
    model, vocabulary = load_package_model(PACKAGE)
    results = measure(model, WordTokenizer(vocabulary), 40, 5)
    assert sum(band["judged"] for band in results["by_objects"].values()) == results["judged"] == 40
    assert sum(band["true"] for band in results["by_objects"].values()) == results["true"]
    assert sum(results["false_captions"].values()) == results["judged"] - results["true"]
    assert results["true"] >= 30  # the bundled decoder's captions are true for about 93% of such scenes


def test_a_false_relation_between_present_objects_is_told_from_a_missing_object():
    left = Entity("circle", "green", 0.0, (0.2, 0.5), (0.05, 0.05), 0.0)
    right = Entity("square", "red", 0.0, (0.8, 0.5), (0.05, 0.05), 0.0)
    world = World((left, right))
    wrong_way = parse("a red square is to the left of a green circle .")
    assert isinstance(wrong_way, Relation) and names_present_pair(wrong_way, world)
    assert not names_present_pair(parse("a blue square is to the left of a green circle ."), world)
