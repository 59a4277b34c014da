"""The relational scorer's auxiliary targets, on a hand-made scene."""
from __future__ import annotations

import torch

from training.language.parser import parse
from training.relational_targets import COUNT, OBJECT, RATIO, RELATION, SELECTED, SUBJECT, role_targets
from training.world import Entity

SLOTS = 4


def _e(shape, color, x, y, size=0.08, shade=0.0):
    return Entity(shape=shape, color=color, shade=shade, center=(x, y), size=(size, size), rotation=0.0)


RED_SQUARE = _e("square", "red", 0.2, 0.5)
GREEN_TRIANGLE = _e("triangle", "green", 0.5, 0.1)
BLUE_CIRCLE = _e("circle", "blue", 0.8, 0.5, size=0.12)
ENTITIES = [RED_SQUARE, GREEN_TRIANGLE, BLUE_CIRCLE]


def targets(text):
    return role_targets(parse(text), ENTITIES, SLOTS)


def test_a_relation_marks_its_subject_object_and_the_pairs_that_stand_in_it():
    t = targets("a red square is to the left of a blue circle .")
    assert t.subject[0].tolist() == [1, 0, 0, 0]
    assert t.object[0].tolist() == [0, 0, 1, 0]
    left_of = t.relation[0]
    assert left_of[0, 2] == 1 and left_of[2, 0] == 0  # the square is left of the circle, not the reverse
    assert left_of[1, 2] == 0  # the triangle is 0.3 to the left but 0.4 higher: not "to the left"
    assert left_of.diagonal().sum() == 0
    assert t.known[0].tolist() == [True, True, True, False, False, False]
    assert not t.known[1].any()


def test_a_relation_between_sizes_compares_the_pair():
    t = targets("a blue circle is bigger than a square .")
    assert t.relation[0, 2, 0] == 1 and t.relation[0, 0, 2] == 0


def test_a_count_names_its_amount_and_a_ratio_its_fraction():
    count = targets("exactly two shapes are red .")
    assert count.subject[0].tolist() == [1, 1, 1, 0]  # "shapes": every entity, not the empty slot
    assert count.object[0].tolist() == [1, 0, 0, 0]
    assert count.amount[0] == 2 and count.known[0, COUNT] and not count.known[0, RATIO]
    ratio = targets("exactly half the shapes are red .")
    assert ratio.amount[0] == 0.5 and ratio.known[0, RATIO] and not ratio.known[0, COUNT]


def test_a_selection_names_the_entity_it_picks():
    leftmost = targets("the leftmost shape is red .")
    assert leftmost.selected[0] == 0 and leftmost.known[0, SELECTED]
    uppermost = targets("the uppermost shape is green .")
    assert uppermost.selected[0] == 1  # y grows downward
    biggest = targets("the biggest shape is blue .")
    assert biggest.selected[0] == 2


def test_a_connective_has_a_clause_per_side():
    t = targets("there is a red square and there is a blue circle .")
    assert t.object[0].tolist() == [1, 0, 0, 0]
    assert t.object[1].tolist() == [0, 0, 1, 0]
    assert t.known[:, SUBJECT].all() and t.known[:, OBJECT].all() and not t.known[:, RELATION].any()


def test_a_text_the_parser_does_not_read_has_no_targets():
    t = targets("xyzzy plugh .")
    assert not t.known.any() and t.subject.sum() == 0 and t.relation.sum() == 0


def test_relations_that_need_more_than_the_pair_are_left_to_the_label():
    t = role_targets(parse("a red square is behind a blue circle ."), ENTITIES, SLOTS)
    assert t.known[0, SUBJECT] and not t.known[0, RELATION]
    assert torch.count_nonzero(t.relation) == 0
