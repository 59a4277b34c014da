"""The pointing game's judging: noun phrases of captions, the objects they name, hits and misses."""
from __future__ import annotations

from training.pointing import boxes_of, judge, noun_phrases, score_words, summarise

WORLD = {"entities": [
    {"shape": {"name": "square"}, "color": {"name": "red"},
     "bounding_box": {"topleft": {"x": 0.0, "y": 0.0}, "bottomright": {"x": 0.2, "y": 0.2}}},
    {"shape": {"name": "circle"}, "color": {"name": "blue"},
     "bounding_box": {"topleft": {"x": 0.7, "y": 0.7}, "bottomright": {"x": 1.1, "y": 0.9}}},
]}


def one_hot(width: int, x: int, y: int) -> dict:
    values = [0.0] * (width * width)
    values[y * width + x] = 1.0
    return {"width": width, "height": width, "values": values}


def test_attributive_and_predicative_phrases():
    words = "a red square is to the left of a blue circle .".split()
    assert [(p["color"], p["shape"], p["indices"]) for p in noun_phrases(words)] == [("red", "square", [1, 2]), ("blue", "circle", [9, 10])]
    words = "a square is red .".split()
    assert [(p["color"], p["shape"], p["indices"]) for p in noun_phrases(words)] == [("red", "square", [1, 3])]
    words = "there is a green shape .".split()
    assert [(p["color"], p["shape"]) for p in noun_phrases(words)] == [("green", None)]


def test_boxes_fit_the_phrase_and_are_clipped_to_the_image():
    assert boxes_of(WORLD, "blue", None) == [(0.7, 0.7, 1.0, 0.9)]
    assert boxes_of(WORLD, None, "square") == [(0.0, 0.0, 0.2, 0.2)]
    assert boxes_of(WORLD, "red", "circle") == []


def test_a_peak_on_the_box_hits_and_one_elsewhere_misses():
    box = [(0.0, 0.0, 0.2, 0.2)]
    assert judge(one_hot(10, 1, 1), box)["hit"] and judge(one_hot(10, 1, 1), box)["hit_strict"]
    assert not judge(one_hot(10, 8, 8), box)["hit"]
    touching = judge(one_hot(10, 2, 0), [(0.0, 0.0, 0.21, 0.2)])  # cell 0.2..0.3 overlaps, its centre 0.25 is outside
    assert touching["hit"] and not touching["hit_strict"]


def test_words_of_false_phrases_are_not_judged():
    words = "there is a green triangle .".split()
    answer = {"explanation": [{"word": w, "map": one_hot(10, 0, 0)} for w in words]}
    rows = score_words(answer, WORLD)
    assert [(r["word"], r["type"], "hit" in r) for r in rows] == [("green", "color", False), ("triangle", "shape", False)]
    assert summarise(rows)["shape"]["judged"] == 0


def test_hit_rates_per_word_type():
    words = "a red square is to the left of a blue circle .".split()
    maps = {1: one_hot(10, 1, 1), 2: one_hot(10, 9, 0), 9: one_hot(10, 8, 8), 10: one_hot(10, 8, 8)}
    answer = {"explanation": [{"word": w, "map": maps.get(i, one_hot(10, 5, 5))} for i, w in enumerate(words)]}
    summary = summarise(score_words(answer, WORLD))
    assert summary["color"]["hit_rate"] == 1.0
    assert summary["shape"]["hit_rate"] == 0.5
