"""Caption generation: mixed true/false captions for matching, and describe() for captioning.

Every caption is built as a logical form, checked with the same evaluator that truth() uses,
and realised as text. A caption is kept only when its truth does not depend on where exactly
the margins lie (semantics.is_clear), so nothing borderline is ever taught.
"""
from __future__ import annotations

import random
from typing import Callable, Optional

from training.language.edits import minimal_edits
from training.language.logic import Description, Existential, Quantified, Relation, Statement
from training.language.realize import realize
from training.language.semantics import DEFAULT, evaluate, holds, is_clear
from training.world import Entity, World

# Relative frequency of each form among generated matching captions.
FORM_WEIGHTS: dict[str, float] = {
    "existential": 3.0,
    "spatial": 3.0,
    "attribute": 2.0,
    "comparative": 2.0,
    "count": 2.0,
}
_ATTEMPTS_PER_CAPTION = 20
SPATIAL = ("left", "right", "above", "below")
ATTRIBUTE = ("same-shape", "different-shape", "same-color", "different-color")
COMPARATIVE = ("bigger", "smaller", "lighter", "darker")
COMPARISONS = ("exactly", "more than", "less than", "at least", "at most", "not")


def _mention(entity: Entity, rng: random.Random) -> Description:
    """A description that fits `entity`: by colour and shape, colour alone, or shape alone."""
    kind = rng.random()
    if kind < 0.5:
        return Description(entity.color, entity.shape)
    if kind < 0.75:
        return Description(color=entity.color)
    return Description(shape=entity.shape)


def _existential(world: World, rng: random.Random) -> Optional[Statement]:
    e = rng.choice(world.entities)
    variant = rng.randrange(4)
    if variant == 0:  # there is a red square / a red shape / a square
        return Existential(None, _mention(e, rng))
    if variant == 1:  # a shape is a red square / red / a square
        return Existential(Description(), _mention(e, rng))
    if variant == 2:  # a square is red
        return Existential(Description(shape=e.shape), Description(color=e.color))
    return Existential(Description(color=e.color), Description(shape=e.shape))  # a red shape is a square


def _pair_relation(world: World, rng: random.Random, relations: tuple[str, ...],
                   negation_rate: float) -> Optional[Statement]:
    if len(world.entities) < 2:
        return None
    a, b = rng.sample(world.entities, 2)
    holding = [r for r in relations if holds(r, a, b, DEFAULT)]
    if not holding:
        return None
    statement = Relation(_mention(a, rng), rng.choice(holding), _mention(b, rng))
    if rng.random() < negation_rate:
        # "a X is not REL a Y" about a relation that does not hold for this pair
        others = [r for r in relations if r not in holding]
        if not others:
            return None
        statement = Relation(statement.subject, rng.choice(others), statement.object, negated=True)
    return statement


def _spatial(world: World, rng: random.Random) -> Optional[Statement]:
    return _pair_relation(world, rng, SPATIAL, negation_rate=0.1)


def _attribute(world: World, rng: random.Random) -> Optional[Statement]:
    return _pair_relation(world, rng, ATTRIBUTE, negation_rate=0.2)


def _comparative(world: World, rng: random.Random) -> Optional[Statement]:
    return _pair_relation(world, rng, COMPARATIVE, negation_rate=0.1)


def _count(world: World, rng: random.Random) -> Optional[Statement]:
    e = rng.choice(world.entities)
    split = rng.randrange(4)
    if split == 0:  # "... shapes are red squares"
        restrictor, body = Description(), Description(e.color, e.shape)
    elif split == 1:  # "... shapes are red"
        restrictor, body = Description(), rng.choice(
            [Description(color=e.color), Description(shape=e.shape)])
    elif split == 2:  # "... red shapes are squares"
        restrictor, body = Description(color=e.color), Description(shape=e.shape)
    else:  # "... squares are red"
        restrictor, body = Description(shape=e.shape), Description(color=e.color)
    k = sum(1 for x in world.entities if restrictor.matches(x) and body.matches(x))
    comparison = rng.choice(COMPARISONS)
    if comparison == "exactly":
        amount = k
    elif comparison == "more than":
        amount = rng.randint(0, k - 1)
    elif comparison == "less than":
        amount = k + rng.randint(1, 2)
    elif comparison == "at least":
        amount = rng.randint(max(k - 2, 0), k)
    elif comparison == "at most":
        amount = k + rng.randint(0, 2)
    else:  # not
        amount = rng.choice([n for n in (k - 1, k + 1) if n >= 0])
    return Quantified(comparison, amount, restrictor, body)


_BUILDERS: dict[str, Callable[[World, random.Random], Optional[Statement]]] = {
    "existential": _existential,
    "spatial": _spatial,
    "attribute": _attribute,
    "comparative": _comparative,
    "count": _count,
}


def _clearly(statement: Statement, world: World, value: bool) -> bool:
    return is_clear(statement, world) and evaluate(statement, world) == value


def sample_statement(world: World, rng: random.Random, value: bool,
                     form: Optional[str] = None) -> Statement:
    """A statement of the given (or a random) form whose truth in `world` is clearly `value`.
    A false one is a minimal edit of a clearly true one."""
    names = list(FORM_WEIGHTS)
    weights = [FORM_WEIGHTS[n] for n in names]
    for _ in range(_ATTEMPTS_PER_CAPTION):
        chosen = form or rng.choices(names, weights)[0]
        statement = _BUILDERS[chosen](world, rng)
        if statement is None or not _clearly(statement, world, True):
            continue
        if value:
            return statement
        candidates = minimal_edits(statement)
        rng.shuffle(candidates)
        for edited in candidates:
            if _clearly(edited, world, False):
                return edited
    # A one-entity world always admits this pair of existential captions.
    e = world.entities[0]
    statement = Existential(None, Description(e.color, e.shape))
    if value:
        return statement
    for edited in minimal_edits(statement):
        if _clearly(edited, world, False):
            return edited
    raise RuntimeError("no false caption found")  # unreachable: 7 colours x 8 shapes


def sample_match_captions(world: World, rng: random.Random, n: int) -> list[tuple[str, bool]]:
    """n captions of mixed forms, about half true; each false one is a minimal edit of a true one."""
    out = []
    for _ in range(n):
        value = rng.random() < 0.5
        out.append((realize(sample_statement(world, rng, value)), value))
    return out


def _dominant_relation(a: Entity, b: Entity) -> str:
    dx = b.center[0] - a.center[0]
    dy = b.center[1] - a.center[1]
    if abs(dx) >= abs(dy):
        return "left" if dx > 0 else "right"
    return "above" if dy > 0 else "below"


def describe(world: World) -> str:
    """The most specific true caption in a fixed form, the captioning target.

    One entity: "there is a {color} {shape} ." Otherwise the dominant-axis spatial relation of
    the two biggest entities (by area), else of the next pairs in order of size, else
    "there is a ..." for the biggest entity."""
    by_size = sorted(world.entities, key=lambda e: -e.area)
    biggest = by_size[0]
    for i in range(len(by_size)):
        for j in range(i + 1, len(by_size)):
            a, b = by_size[i], by_size[j]
            relation = _dominant_relation(a, b)
            if holds(relation, a, b, DEFAULT):
                statement: Statement = Relation(
                    Description(a.color, a.shape), relation, Description(b.color, b.shape))
                return realize(statement)
    return realize(Existential(None, Description(biggest.color, biggest.shape)))
