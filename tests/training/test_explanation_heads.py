"""Choosing the explanation heads: generated scenes with boxes, the greedy choice, the manifest field."""
from __future__ import annotations

import json
import math

from training.explanation_heads import choose, single_head_package, write_heads
from training.pointing import bounding_box, generated_scenes, score_words
from training.world import Entity

WORLD = {"entities": [
    {"shape": {"name": "square"}, "color": {"name": "red"},
     "bounding_box": {"topleft": {"x": 0.0, "y": 0.0}, "bottomright": {"x": 0.2, "y": 0.2}}},
    {"shape": {"name": "circle"}, "color": {"name": "blue"},
     "bounding_box": {"topleft": {"x": 0.7, "y": 0.7}, "bottomright": {"x": 0.9, "y": 0.9}}},
]}
WORDS = "a red square is to the left of a blue circle .".split()


def one_hot(x: int, y: int, width: int = 10) -> dict:
    values = [0.0] * (width * width)
    values[y * width + x] = 1.0
    return {"width": width, "height": width, "values": values}


def answer(maps: dict[int, dict]) -> dict:
    return {"caption": " ".join(WORDS), "explanation": [{"word": w, "map": maps.get(i, one_hot(5, 5))} for i, w in enumerate(WORDS)]}


def test_a_bounding_box_is_the_rotated_shapes_extent():
    square = Entity(shape="square", color="red", shade=0.0, center=(0.5, 0.4), size=(0.1, 0.1), rotation=0.0)
    box = bounding_box(square)
    assert math.isclose(box["topleft"]["x"], 0.4, abs_tol=0.005) and math.isclose(box["bottomright"]["y"], 0.5, abs_tol=0.005)
    turned = bounding_box(Entity(**{**square.__dict__, "rotation": 0.125}))  # 45 degrees: the diagonal is the extent
    assert math.isclose(turned["bottomright"]["x"] - turned["topleft"]["x"], 0.2 * math.sqrt(2), abs_tol=0.01)


def test_generated_scenes_are_judged_like_the_development_sets(tmp_path):
    folder = generated_scenes(3, 7, tmp_path)
    records = [json.loads(line) for line in (folder / "worlds.jsonl").read_text().splitlines()]
    assert [r["image"] for r in records] == ["scene-00000.png", "scene-00001.png", "scene-00002.png"]
    assert all((folder / r["image"]).is_file() for r in records)
    entity = records[0]["world_model"]["entities"][0]
    caption = {"explanation": [{"word": w, "map": one_hot(0, 0)} for w in ["a", entity["color"]["name"], entity["shape"]["name"], "."]]}
    assert [row["objects"] >= 1 for row in score_words(caption, records[0]["world_model"])] == [True, True]


def test_greedy_choice_takes_the_heads_that_find_each_word_type_and_stops():
    # Head (0, 0) finds the object at shape steps only, head (0, 1) at colour steps only, head (1, 0) never.
    # `elsewhere` is the last cell, off both boxes, so that a tie with an object's cell goes to the object (first cell wins).
    on_square, on_circle, elsewhere = one_hot(1, 1), one_hot(8, 8), one_hot(9, 9)
    answers = {
        (0, 0): [answer({1: elsewhere, 2: on_square, 9: elsewhere, 10: on_circle})],
        (0, 1): [answer({1: on_square, 2: elsewhere, 9: on_circle, 10: elsewhere})],
        (1, 0): [answer({1: elsewhere, 2: elsewhere, 9: elsewhere, 10: elsewhere})],
    }
    chosen, steps = choose(answers, [WORLD], log=lambda _: None)
    assert sorted(chosen) == [(0, 0), (0, 1)]
    assert steps[-1]["color"] == 1.0 and steps[-1]["shape"] == 1.0


def test_the_choice_is_written_into_the_manifest_in_layer_order(tmp_path):
    (tmp_path / "caption_service.json").write_text(json.dumps({"decoder": {"cross_attentions": "cross_attentions.{i}"}}))
    write_heads(tmp_path, [(2, 3), (0, 1)])
    text = (tmp_path / "caption_service.json").read_text()
    assert json.loads(text)["decoder"]["cross_attention_heads"] == [[0, 1], [2, 3]]
    assert text == json.dumps(json.loads(text), indent=2) + "\n"


def test_a_single_head_copy_links_every_other_file(tmp_path):
    package = tmp_path / "package"
    package.mkdir()
    (package / "caption_service.json").write_text(json.dumps({"decoder": {"cross_attentions": "cross_attentions.{i}"}}))
    (package / "vocab.txt").write_text("a\n")
    copy = single_head_package(package, 1, 2, tmp_path)
    assert (copy / "vocab.txt").is_symlink()
    assert json.loads((copy / "caption_service.json").read_text())["decoder"]["cross_attention_heads"] == [[1, 2]]
