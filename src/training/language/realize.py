"""Logical form → caption text; the inverse of training.language.parser.parse."""
from __future__ import annotations

from fractions import Fraction

from training.language import lexicon as lx
from training.language.logic import (
    Connective, Description, Existential, Quantified, Relation, Selection, Statement,
)

_RELATION_PHRASES: dict[str, str] = {
    name: phrase
    for table in (lx.SPATIAL_RELATIONS, lx.DEPTH_RELATIONS, lx.ATTRIBUTE_RELATIONS,
                  lx.COMPARATIVE_RELATIONS, lx.DISTANCE_RELATIONS)
    for phrase, name in table.items()
}


def realize(statement: Statement) -> str:
    """The caption for `statement`: lower case, single spaces, ending in " ."."""
    return _statement(statement) + " ."


def _statement(s: Statement) -> str:
    if isinstance(s, Connective):
        if s.operator == "implies":
            if s.prefix:
                return f"if {_statement(s.left)} {_statement(s.right)}"
            return f"{_statement(s.right)} if {_statement(s.left)}"
        operator = "if and only if" if s.operator == "iff" else s.operator
        return f"{_statement(s.left)} {operator} {_statement(s.right)}"
    if isinstance(s, Existential):
        if s.subject is None:
            return f"there is {indefinite(s.predicate)}"
        return f"{indefinite(s.subject)} is {_property(s.predicate)}"
    if isinstance(s, Relation):
        words = [indefinite(s.subject), "is"]
        if s.negated:
            words.append("not")
        words += [_RELATION_PHRASES[s.relation], indefinite(s.object)]
        if s.reference is not None:
            words += ["than the", bare(s.reference)]
        return " ".join(words)
    if isinstance(s, Quantified):
        return _quantified(s)
    if isinstance(s, Selection):
        return f"the {s.selector} {bare(s.target)} is {_property(s.predicate)}"
    raise TypeError(f"not a statement: {s!r}")


def bare(d: Description, plural: bool = False) -> str:
    """ "red square", "red shape", "square"; with plural "red squares"."""
    noun = d.shape or "shape"
    if plural:
        noun = lx.PLURALS[noun]
    return f"{d.color} {noun}" if d.color else noun


def indefinite(d: Description) -> str:
    words = bare(d)
    return f"{lx.article(words)} {words}"


def _property(d: Description) -> str:
    """After "is": a colour alone ("red") or an indefinite noun phrase ("a red square")."""
    if d.shape is None and d.color is not None:
        return d.color
    return indefinite(d)


def _quantified(q: Quantified) -> str:
    if q.is_ratio:
        amount = lx.ratio_words(q.amount)  # type: ignore[arg-type]
        singular = False
    elif q.amount_word == "no":
        amount, singular = "no", True
    else:
        amount, singular = lx.NUMBERS[q.amount], q.amount == 1  # type: ignore[index]
    restrictor = bare(q.restrictor, plural=not singular)
    # the shared data writes "a third of the shapes is green" but "half the shapes are green"
    third_of_color = q.amount == Fraction(1, 3) and q.body.shape is None
    if singular or third_of_color:
        body = f"is {_property(q.body)}"
    elif q.body.shape is None and q.body.color is not None:
        body = f"are {q.body.color}"
    else:
        body = f"are {bare(q.body, plural=True)}"
    return f"{q.comparison} {amount} {restrictor} {body}"
