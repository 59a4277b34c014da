"""Logical forms of captions: what the parser produces, the evaluator reads, the generator edits."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Union

from training.world import Entity


@dataclass(frozen=True)
class Description:
    """A noun phrase's content: "red square" (both), "red shape" (colour), "square" (shape)."""
    color: str | None = None
    shape: str | None = None

    def matches(self, entity: Entity) -> bool:
        return (self.color is None or entity.color == self.color) and (
            self.shape is None or entity.shape == self.shape)


@dataclass(frozen=True)
class Existential:
    """Some entity fits both: "there is a red square" (subject None), "a shape is a red square"
    (subject = any shape), "a pentagon is yellow", "a red shape is a square"."""
    subject: Description | None
    predicate: Description


@dataclass(frozen=True)
class Relation:
    """"a X is [not] REL a Y [than the Z]": some X stands in REL to some other Y.

    relation: left right above below behind in-front same-shape different-shape same-color
    different-color bigger smaller lighter darker closer farther. `reference` is the Z of
    "closer to a Y than the Z"."""
    subject: Description
    relation: str
    object: Description
    negated: bool = False
    reference: Description | None = None


@dataclass(frozen=True)
class Quantified:
    """"COMPARISON AMOUNT RESTRICTOR is/are BODY".

    comparison: exactly, more than, less than, at least, at most, not (= "is not exactly").
    amount: an int for counts ("two shapes are red"), a Fraction for ratios ("half the shapes
    are red", "all squares are red": Fraction(1)). `no` is the count 0."""
    comparison: str
    amount: Union[int, Fraction]
    restrictor: Description
    body: Description
    # how the count was written, so realisation reproduces it: "number", "no"
    amount_word: str = "number"

    @property
    def is_ratio(self) -> bool:
        return isinstance(self.amount, Fraction)


@dataclass(frozen=True)
class Selection:
    """"the SELECTOR TARGET is PREDICATE": "the leftmost red shape is a square".

    selector: a word of lexicon.SELECTORS ("leftmost", "bigger", ...)."""
    selector: str
    target: Description
    predicate: Description


@dataclass(frozen=True)
class Connective:
    """"S1 and S2", "S1 or S2", "S1 if and only if S2", "S1 if S2" and "if S1 S2"
    (both implications stored as antecedent → consequent)."""
    operator: str  # and, or, iff, implies
    left: "Statement"
    right: "Statement"
    # surface order of an implication: "if S1 S2" (prefix) or "S2 if S1" (infix)
    prefix: bool = False


Statement = Union[Existential, Relation, Quantified, Selection, Connective]
