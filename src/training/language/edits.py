"""Minimal edits of a logical form: one colour, shape, relation, selector or number changed.

False training captions are made by applying one of these to a true caption and keeping the
result only if it is clearly false, so that only looking at the image can tell them apart.
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from functools import partial
from typing import Callable

from training.language.logic import (
    Connective, Description, Existential, Quantified, Relation, Selection, Statement,
)
from training.world import COLORS, SHAPES

# Each relation can be swapped for these (the same kind of relation, a different meaning).
RELATION_SWAPS: dict[str, tuple[str, ...]] = {
    "left": ("right", "above", "below"),
    "right": ("left", "above", "below"),
    "above": ("below", "left", "right"),
    "below": ("above", "left", "right"),
    "behind": ("in-front",), "in-front": ("behind",),
    "same-shape": ("different-shape", "same-color"),
    "different-shape": ("same-shape", "different-color"),
    "same-color": ("different-color", "same-shape"),
    "different-color": ("same-color", "different-shape"),
    "bigger": ("smaller",), "smaller": ("bigger",),
    "lighter": ("darker",), "darker": ("lighter",),
    "closer": ("farther",), "farther": ("closer",),
}
SELECTOR_SWAPS: dict[str, tuple[str, ...]] = {
    "left": ("right",), "right": ("left",), "upper": ("lower",), "lower": ("upper",),
    "leftmost": ("rightmost",), "rightmost": ("leftmost",),
    "uppermost": ("lowermost",), "lowermost": ("uppermost",),
    "smaller": ("bigger",), "bigger": ("smaller",),
    "smallest": ("biggest",), "biggest": ("smallest",),
    "darker": ("lighter",), "lighter": ("darker",),
    "darkest": ("lightest",), "lightest": ("darkest",),
}
# Ratios a ratio caption may be changed to.
RATIOS: tuple[Fraction, ...] = (
    Fraction(1, 4), Fraction(1, 3), Fraction(1, 2), Fraction(2, 3), Fraction(3, 4), Fraction(1),
)
MAX_COUNT = 10


def description_edits(d: Description) -> list[Description]:
    out = []
    if d.color is not None:
        out += [Description(c, d.shape) for c in COLORS if c != d.color]
    if d.shape is not None:
        out += [Description(d.color, x) for x in SHAPES if x != d.shape]
    return out


def minimal_edits(s: Statement) -> list[Statement]:
    """Every statement that differs from `s` in exactly one word-level slot."""
    return [make() for make in edit_options(s)]


Edit = Callable[[], Statement]


def edit_options(s: Statement) -> list[Edit]:
    """The minimal edits of `s` as unbuilt thunks: the generator shuffles them and builds only
    the few it tries, which keeps caption generation fast."""
    if isinstance(s, Existential):
        out: list[Edit] = [partial(replace, s, predicate=d) for d in description_edits(s.predicate)]
        if s.subject is not None:
            out += [partial(replace, s, subject=d) for d in description_edits(s.subject)]
        return out
    if isinstance(s, Relation):
        out = [partial(replace, s, relation=r) for r in RELATION_SWAPS[s.relation]
               if (r in ("closer", "farther")) == (s.reference is not None)]
        out += [partial(replace, s, subject=d) for d in description_edits(s.subject)]
        out += [partial(replace, s, object=d) for d in description_edits(s.object)]
        if s.reference is not None:
            out += [partial(replace, s, reference=d) for d in description_edits(s.reference)]
        return out
    if isinstance(s, Quantified):
        if s.is_ratio:
            out = [partial(replace, s, amount=r) for r in RATIOS if r != s.amount]
        else:
            out = [partial(replace, s, amount=n, amount_word="number")
                   for n in range(MAX_COUNT + 1) if n != s.amount]
        out += [partial(replace, s, restrictor=d) for d in description_edits(s.restrictor)]
        out += [partial(replace, s, body=d) for d in description_edits(s.body)]
        return out
    if isinstance(s, Selection):
        out = [partial(replace, s, selector=x) for x in SELECTOR_SWAPS[s.selector]]
        out += [partial(replace, s, predicate=d) for d in description_edits(s.predicate)]
        return out
    if isinstance(s, Connective):
        return ([_compose(s, "left", e) for e in edit_options(s.left)]
                + [_compose(s, "right", e) for e in edit_options(s.right)])
    raise TypeError(f"not a statement: {s!r}")


def _compose(s: Connective, side: str, edit: Edit) -> Edit:
    return lambda: replace(s, **{side: edit()})
