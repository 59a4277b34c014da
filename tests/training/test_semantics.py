"""Truth function: agreement with the published ShapeWorld labels, and hand-made cases."""
from __future__ import annotations

from collections import defaultdict

import pytest

from training.language import caption_form, truth
from training.world import Entity, World

# Forms whose semantics must reproduce the published labels (issue 2, section 1).
REQUIRED_FORMS = ("existential", "spatial", "attribute", "comparative", "count")
MIN_AGREEMENT = 0.99


def _agreement_by_form(examples):
    table = defaultdict(lambda: [0, 0])
    for ex in examples:
        for caption, label in ex.captions:
            value = truth(ex.world, caption)
            if value is not None:
                form = caption_form(caption)
                table[form][0] += value == label
                table[form][1] += 1
    return table


@pytest.fixture(scope="module")
def agreement_by_form(shared_examples):
    return _agreement_by_form(shared_examples)


@pytest.mark.parametrize("form", REQUIRED_FORMS)
def test_required_forms_are_supported_and_agree(agreement_by_form, form):
    agree, supported = agreement_by_form[form]
    assert supported >= 100, f"only {supported} {form} captions parsed"
    assert agree / supported >= MIN_AGREEMENT, f"{form}: {agree}/{supported}"


def test_every_supported_form_agrees(agreement_by_form):
    for form, (agree, supported) in agreement_by_form.items():
        assert agree / supported >= MIN_AGREEMENT, f"{form}: {agree}/{supported}"


def test_required_sets_are_fully_supported(shared_examples):
    sets = ("existential-colfree", "existential-full", "existential-oneshape", "relational-spatial",
            "relational-spatial_twoshapes", "relational-attribute", "relational-comparative",
            "quantification-count")
    for ex in shared_examples:
        if ex.set_name in sets:
            for caption, _ in ex.captions:
                assert truth(ex.world, caption) is not None, caption


def _e(shape, color, x, y, size=0.08, shade=0.0):
    return Entity(shape, color, shade, (x, y), (size, size), 0.0)


RED_SQUARE = _e("square", "red", 0.2, 0.5)
BLUE_CIRCLE = _e("circle", "blue", 0.6, 0.55, size=0.1, shade=0.3)
WORLD = World((RED_SQUARE, BLUE_CIRCLE))


@pytest.mark.parametrize("caption, expected", [
    ("there is a red square .", True),
    ("there is a red circle .", False),
    ("a shape is blue .", True),
    ("a square is blue .", False),
    ("a red shape is a square .", True),
    ("an ellipse is blue .", False),
    ("a red square is to the left of a blue circle .", True),
    ("a red square is to the right of a blue circle .", False),
    ("a blue circle is to the right of a square .", True),
    ("a red square is above a blue circle .", False),   # dy 0.05 < dx 0.4: not "above"
    ("a red square is not to the left of a blue circle .", False),
    ("a red square is not to the left of a green circle .", True),   # no green circle at all
    ("a green square is not to the left of a blue circle .", False),  # no green square at all
    ("a red square is a different shape from a blue shape .", True),
    ("a red square is the same color as a shape .", False),  # only itself is red
    ("a blue circle is bigger than a red square .", True),
    ("a blue circle is lighter than a square .", True),
    ("a red square is lighter than a circle .", False),
    ("exactly two shapes are red .", False),
    ("exactly one shape is red .", True),
    ("more than one shape is a circle .", False),
    ("not two shapes are blue .", True),
])
def test_hand_made_world(caption, expected):
    assert truth(WORLD, caption) is expected


def test_spatial_relation_needs_a_minimum_offset():
    near = World((_e("square", "red", 0.50, 0.5), _e("circle", "blue", 0.53, 0.5)))
    far = World((_e("square", "red", 0.40, 0.5), _e("circle", "blue", 0.60, 0.5)))
    caption = "a red square is to the left of a blue circle ."
    assert truth(near, caption) is False
    assert truth(far, caption) is True


def test_a_relation_needs_two_different_entities():
    alone = World((RED_SQUARE,))
    assert truth(alone, "a red square is the same shape as a square .") is False
    assert truth(alone, "a red square is to the left of a shape .") is False


def test_behind_is_drawing_order_among_overlapping_entities():
    back, front = _e("square", "red", 0.5, 0.5), _e("circle", "blue", 0.55, 0.5)
    world = World((back, front))
    assert truth(world, "a red square is behind a blue circle .") is True
    assert truth(world, "a blue circle is in front of a red square .") is True
    assert truth(world, "a blue circle is behind a red square .") is False
    apart = World((back, _e("circle", "blue", 0.9, 0.1)))
    assert truth(apart, "a red square is behind a blue circle .") is False


@pytest.mark.parametrize("caption, expected", [
    ("more than half the shapes are red .", True),    # 1 of 2: equality counts, as in the labels
    ("more than half the shapes are green .", False),
    ("less than all shapes are red .", True),
    ("at least half the shapes are red .", True),
    ("exactly a third of the shapes is red .", False),
    ("exactly all circles are blue .", True),
    ("less than all shapes are squares .", True),
    ("at least a quarter of the triangles are red .", False),  # no triangles: nothing to count
])
def test_ratios(caption, expected):
    assert truth(WORLD, caption) is expected


def test_connectives():
    assert truth(WORLD, "there is a red square and there is a blue circle .") is True
    assert truth(WORLD, "there is a red circle or there is a blue circle .") is True
    assert truth(WORLD, "if there is a red circle there is a green square .") is True
    assert truth(WORLD, "there is a green square if there is a red square .") is False
    assert truth(WORLD, "there is a red circle if and only if there is a green square .") is True


@pytest.mark.parametrize("caption", [
    "as many red shapes as cyan shapes are rectangles .",
    "more than half as many magenta shapes as red shapes are rectangles .",
    "there is a red square",            # no final " ."
    "a square is not red .",
    "at least two shapes are shapes .",  # a body that says nothing
    "there is an red square .",         # wrong article
    "",
])
def test_unsupported_captions_give_none(caption):
    assert truth(WORLD, caption) is None
    assert caption_form(caption) is None


@pytest.mark.parametrize("caption, form", [
    ("there is a red square .", "existential"),
    ("a square is to the left of a circle .", "spatial"),
    ("a square is not the same color as a circle .", "attribute"),
    ("a square is darker than a circle .", "comparative"),
    ("at most two shapes are red .", "count"),
    ("less than a quarter of the squares are red .", "ratio"),
    ("there is a square or there is a circle .", "logical"),
    ("the leftmost square is red .", "selection"),
    ("a square is closer to a circle than the cross .", "spatial-distance"),
    ("a square is behind a circle .", "depth"),
])
def test_caption_form(caption, form):
    assert caption_form(caption) == form


def test_selection_picks_the_extreme_and_needs_two_for_a_comparative():
    left = _e("square", "red", 0.2, 0.5)
    middle = _e("circle", "red", 0.5, 0.5)
    right = _e("cross", "red", 0.8, 0.5)
    three = World((left, middle, right))
    assert truth(three, "the leftmost red shape is a square .") is True
    assert truth(three, "the rightmost red shape is a square .") is False
    assert truth(three, "the left red shape is a square .") is False  # three red shapes
    assert truth(World((middle, right)), "the left red shape is a circle .") is True


def test_generator_clarity_rejects_near_ties():
    from training.language.parser import parse
    from training.language.semantics import is_clear

    a, b = _e("square", "red", 0.50, 0.5), _e("circle", "red", 0.55, 0.5)
    world = World((a, b))
    assert not is_clear(parse("the leftmost red shape is a square ."), world)  # 0.05 apart
    assert not is_clear(parse("a red square is to the left of a circle ."), world)
    far = World((a, _e("circle", "red", 0.9, 0.5)))
    assert is_clear(parse("the leftmost red shape is a square ."), far)
    assert is_clear(parse("a red square is to the left of a circle ."), far)
