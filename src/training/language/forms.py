"""Names of caption forms, used to report agreement per form and to mix generated captions."""
from __future__ import annotations

from training.language.logic import (
    Connective, Existential, Quantified, Relation, Selection, Statement,
)

_RELATION_FORMS: dict[str, str] = {
    "left": "spatial", "right": "spatial", "above": "spatial", "below": "spatial",
    "behind": "depth", "in-front": "depth",
    "closer": "spatial-distance", "farther": "spatial-distance",
    "same-shape": "attribute", "different-shape": "attribute",
    "same-color": "attribute", "different-color": "attribute",
    "bigger": "comparative", "smaller": "comparative",
    "lighter": "comparative", "darker": "comparative",
}

FORMS: tuple[str, ...] = (
    "existential", "spatial", "attribute", "comparative", "count",
    "ratio", "logical", "selection", "spatial-distance", "depth",
)


def form_of(statement: Statement) -> str:
    if isinstance(statement, Existential):
        return "existential"
    if isinstance(statement, Relation):
        return _RELATION_FORMS[statement.relation]
    if isinstance(statement, Quantified):
        return "ratio" if statement.is_ratio else "count"
    if isinstance(statement, Selection):
        return "selection"
    if isinstance(statement, Connective):
        return "logical"
    raise TypeError(f"not a statement: {statement!r}")
