"""Truth of a logical form in a World, as the shared ShapeWorld labels define it.

Rules read off the shared example sets (training.calibrate reports the agreement per form):
- "a X is REL a Y" holds when some X stands in REL to some other entity that is a Y;
  "a X is not REL a Y" when some X stands in REL to no other Y.
- Spatial relations need the offset along their axis to exceed both a minimum and the offset
  along the other axis; size and shade comparisons need a minimum difference. The labels agree
  with any margin in a range (see Thresholds), so the generator avoids that range altogether.
- Sizes are compared by visible area: the part of a shape cut off by the border does not count.
- Ratios are false when nothing fits the restrictor; "more/less than half" include equality.
- "the leftmost X" picks the extreme X; "the left X" needs exactly two Xs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from training.language import lexicon as lx
from training.language.logic import (
    Connective, Description, Existential, Quantified, Relation, Selection, Statement,
)
from training.render import visible_area
from training.world import Entity, World


@dataclass(frozen=True)
class Thresholds:
    """Margins by which a relation must hold. The shared labels agree with any value in a
    range (the published captions avoid borderline pairs), so DEFAULT sits inside that range
    and the caption generator only keeps captions whose truth is the same at LOOSE and STRICT:
    a model never has to judge a pair the data set itself would not ask about."""
    # "to the left of" etc.: the offset along the relation's axis must exceed this and the
    # offset along the other axis (labels agree for 0..0.065; NOTES: at most 0.08).
    spatial: float = 0.05
    # "bigger than": visible areas (image = 1) must differ by more than this (labels agree for
    # 0..0.004).
    area: float = 0.0025
    # "lighter than": shade offsets must differ by more than this (labels agree for 0..0.2).
    shade: float = 0.1
    # "closer to y than the z": the two distances must differ by more than this (0..0.15).
    distance: float = 0.05
    # "behind": the centres are closer than this factor times the sum of the largest
    # half-extents (labels agree for 0.8..1.0).
    overlap: float = 1.0
    # "more than half the shapes are red" is true when exactly half are: in the shared labels
    # (6 of 6 such captions) "more than" and "less than" a proper fraction include equality.
    inclusive_ratio: bool = True


DEFAULT = Thresholds()
LOOSE = Thresholds(spatial=0.02, area=0.0, shade=0.0, distance=0.0, overlap=1.2)
STRICT = Thresholds(spatial=0.08, area=0.005, shade=0.2, distance=0.1, overlap=0.8,
                    inclusive_ratio=False)


def entities(world: World, description: Description) -> list[Entity]:
    return [e for e in world.entities if description.matches(e)]


def distance(a: Entity, b: Entity) -> float:
    return math.hypot(a.center[0] - b.center[0], a.center[1] - b.center[1])


# What "leftmost", "uppermost", "biggest", "lightest" and their comparatives order by.
SELECTOR_KEYS = {
    "x": lambda e: e.center[0],
    "y": lambda e: e.center[1],
    "area": visible_area,
    "shade": lambda e: e.shade,
}


def holds(relation: str, a: Entity, b: Entity, t: Thresholds = DEFAULT) -> bool:
    """Whether a binary relation between two entities holds from a to b (a is not b)."""
    dx = b.center[0] - a.center[0]
    dy = b.center[1] - a.center[1]
    if relation == "left":
        return dx > t.spatial and dx > abs(dy)
    if relation == "right":
        return -dx > t.spatial and -dx > abs(dy)
    if relation == "above":
        return dy > t.spatial and dy > abs(dx)
    if relation == "below":
        return -dy > t.spatial and -dy > abs(dx)
    if relation == "same-shape":
        return a.shape == b.shape
    if relation == "different-shape":
        return a.shape != b.shape
    if relation == "same-color":
        return a.color == b.color
    if relation == "different-color":
        return a.color != b.color
    if relation == "bigger":
        return visible_area(a) - visible_area(b) > t.area
    if relation == "smaller":
        return visible_area(b) - visible_area(a) > t.area
    if relation == "lighter":
        return a.shade - b.shade > t.shade
    if relation == "darker":
        return b.shade - a.shade > t.shade
    raise ValueError(f"unknown relation {relation!r}")


def evaluate(statement: Statement, world: World, t: Thresholds = DEFAULT) -> bool:
    """Truth of `statement` in `world` under the margins `t`."""
    if isinstance(statement, Existential):
        subject = statement.subject or Description()
        return any(subject.matches(e) and statement.predicate.matches(e) for e in world.entities)
    if isinstance(statement, Relation):
        return _relation(statement, world, t)
    if isinstance(statement, Quantified):
        return _quantified(statement, world, t)
    if isinstance(statement, Selection):
        return _selection(statement, world)
    if isinstance(statement, Connective):
        left, right = evaluate(statement.left, world, t), evaluate(statement.right, world, t)
        if statement.operator == "and":
            return left and right
        if statement.operator == "or":
            return left or right
        if statement.operator == "iff":
            return left == right
        if statement.operator == "implies":
            return (not left) or right
        raise ValueError(f"unknown connective {statement.operator!r}")
    raise TypeError(f"not a statement: {statement!r}")


def is_clear(statement: Statement, world: World) -> bool:
    """Whether the truth value does not depend on where in the tolerated range the margins
    lie, and no "the ..." selection has a runner-up within the STRICT margin of its pick:
    the generator keeps only such captions."""
    return (evaluate(statement, world, LOOSE) == evaluate(statement, world, STRICT)
            and not _has_close_selection(statement, world))


def _has_close_selection(statement: Statement, world: World) -> bool:
    if isinstance(statement, Connective):
        return (_has_close_selection(statement.left, world)
                or _has_close_selection(statement.right, world))
    if not isinstance(statement, Selection):
        return False
    attribute, direction, _ = lx.SELECTORS[statement.selector]
    values = sorted(SELECTOR_KEYS[attribute](e) for e in entities(world, statement.target))
    if len(values) < 2:
        return False
    margin = {"x": STRICT.spatial, "y": STRICT.spatial, "area": STRICT.area,
              "shade": STRICT.shade}[attribute]
    gap = values[1] - values[0] if direction == "min" else values[-1] - values[-2]
    return gap <= margin


def _relation(r: Relation, world: World, t: Thresholds) -> bool:
    """"a X is REL a Y": some X stands in REL to some other Y. "a X is not REL a Y": some X
    stands in REL to no other Y (the shared labels make "a green semicircle is not to the left
    of a red ellipse" true when there is no red ellipse, and false when there is no green
    semicircle)."""
    for a in world.entities:
        if not r.subject.matches(a):
            continue
        related = any(_pair_holds(r, a, b, world, t) for b in world.entities
                      if b is not a and r.object.matches(b))
        if related != r.negated:
            return True
    return False


def _pair_holds(r: Relation, a: Entity, b: Entity, world: World, t: Thresholds) -> bool:
    if r.relation in ("closer", "farther"):
        return _distance_relation(r, a, b, world, t)
    if r.relation in ("behind", "in-front"):
        return _depth_relation(r.relation, a, b, world, t)
    return holds(r.relation, a, b, t)


def overlapping(a: Entity, b: Entity, t: Thresholds = DEFAULT) -> bool:
    """Whether two entities are close enough to overlap (their bounding circles, scaled by
    t.overlap, meet)."""
    return distance(a, b) < t.overlap * (max(a.size) + max(b.size))


def _depth_relation(relation: str, a: Entity, b: Entity, world: World, t: Thresholds) -> bool:
    """"a is behind b": a is drawn before b and the two overlap."""
    a_first = world.entities.index(a) < world.entities.index(b)
    return overlapping(a, b, t) and (a_first if relation == "behind" else not a_first)


def _distance_relation(r: Relation, a: Entity, b: Entity, world: World, t: Thresholds) -> bool:
    """"a is closer to b than the z": z must be the one entity fitting its description."""
    assert r.reference is not None
    references = [z for z in entities(world, r.reference) if z is not a and z is not b]
    if len(references) != 1:
        return False
    gap = distance(references[0], b) - distance(a, b)
    return gap > t.distance if r.relation == "closer" else -gap > t.distance


def _compare(comparison: str, value, amount) -> bool:
    if comparison == "exactly":
        return value == amount
    if comparison == "more than":
        return value > amount
    if comparison == "less than":
        return value < amount
    if comparison == "at least":
        return value >= amount
    if comparison == "at most":
        return value <= amount
    if comparison == "not":
        return value != amount
    raise ValueError(f"unknown comparison {comparison!r}")


def _quantified(q: Quantified, world: World, t: Thresholds) -> bool:
    """Counts compare the number of restrictor entities that fit the body; ratios compare that
    number's share of the restrictor entities, and are false when there are none."""
    restricted = entities(world, q.restrictor)
    count = sum(1 for e in restricted if q.body.matches(e))
    if not q.is_ratio:
        return _compare(q.comparison, count, q.amount)
    if not restricted:
        return False
    ratio = Fraction(count, len(restricted))
    if (t.inclusive_ratio and ratio == q.amount and 0 < q.amount < 1
            and q.comparison in ("more than", "less than")):
        return True
    return _compare(q.comparison, ratio, q.amount)


def _selection(s: Selection, world: World) -> bool:
    """"the leftmost X is P": the X furthest left is P. A comparative ("the left X") needs
    exactly two Xs."""
    candidates = entities(world, s.target)
    attribute, direction, superlative = lx.SELECTORS[s.selector]
    if not candidates or (not superlative and len(candidates) != 2):
        return False
    choose = min if direction == "min" else max
    return s.predicate.matches(choose(candidates, key=SELECTOR_KEYS[attribute]))
