"""What a statement asks of each object: the relational scorer's auxiliary targets.

The relational scorer (relational.py) judges a statement in steps that the statement's logical
form names: which objects fit the subject ("a red shape"), which fit the object or predicate
("a square"), which pairs stand in the relation ("to the left of"), how many are asked for
("exactly two") and which object a selection picks ("the leftmost red shape"). Learnt from the
true/false label alone, none of these steps started: on perfect objects the head stayed at chance
(macro agreement 50.4% over the 17 development sets after 4,000 steps); supervised with the
targets below, the same head reached 85.4% (relational_oracle.py, before its pair MLP saw the
objects' encodings; 85.7% since). The generator knows each
statement's form, so the targets cost nothing.

A connective ("S1 and S2") has one clause per side; every other form has one clause.

Shapes: K object slots (the world's entities in order, at most K), C clauses.
  subject     float (C, K)     1 where the entity fits the subject / restrictor / selection target
  object      float (C, K)     1 where it fits the object / predicate / body
  relation    float (C, K, K)  1 where entity i stands in the relation to entity j (i != j)
  amount      float (C,)       the number (a count) or fraction (a ratio) a quantified clause names
  selected    int64 (C,)       the entity a selection picks
  known       bool (C, 6)      which a clause defines: subject, object, relation, count, ratio,
                               selected (a count and a ratio share `amount`)
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import torch

from .language import lexicon
from .language.logic import Connective, Description, Existential, Quantified, Relation, Selection, Statement
from .language.semantics import SELECTOR_KEYS, holds
from .world import Entity

CLAUSES = 2
ANYTHING = Description()
# Relations that `holds` decides from two entities alone; "behind" and "closer to ... than" need
# the scene or a third entity, so their pairs are left to the label.
PAIR_RELATIONS = frozenset({
    "left", "right", "above", "below", "same-shape", "different-shape", "same-color", "different-color",
    "bigger", "smaller", "lighter", "darker",
})
SUBJECT, OBJECT, RELATION, COUNT, RATIO, SELECTED = range(6)


@dataclass
class RoleTargets:
    subject: torch.Tensor
    object: torch.Tensor
    relation: torch.Tensor
    amount: torch.Tensor
    selected: torch.Tensor
    known: torch.Tensor

    def to(self, device: torch.device) -> "RoleTargets":
        return RoleTargets(*(getattr(self, f.name).to(device) for f in fields(self)))

    @classmethod
    def empty(cls, slots: int) -> "RoleTargets":
        return cls(
            subject=torch.zeros(CLAUSES, slots), object=torch.zeros(CLAUSES, slots),
            relation=torch.zeros(CLAUSES, slots, slots), amount=torch.zeros(CLAUSES),
            selected=torch.zeros(CLAUSES, dtype=torch.long), known=torch.zeros(CLAUSES, 6, dtype=torch.bool),
        )


def clauses_of(statement: Statement) -> list[Statement]:
    """One clause, or a connective's two sides (a nested connective is left to the label)."""
    return [statement.left, statement.right] if isinstance(statement, Connective) else [statement]


def role_targets(statement: Statement | None, entities: list[Entity], slots: int) -> RoleTargets:
    """The targets of `statement` over the first `slots` entities; all unknown for None (a text
    the parser does not read)."""
    targets = RoleTargets.empty(slots)
    if statement is None:
        return targets
    for clause, part in enumerate(clauses_of(statement)):
        _clause_targets(part, entities[:slots], clause, targets)
    return targets


def _roles(statement: Statement) -> tuple[Description, Description] | None:
    if isinstance(statement, Existential):
        return statement.subject or ANYTHING, statement.predicate
    if isinstance(statement, Relation):
        return statement.subject, statement.object
    if isinstance(statement, Quantified):
        return statement.restrictor, statement.body
    if isinstance(statement, Selection):
        return statement.target, statement.predicate
    return None


def _clause_targets(statement: Statement, entities: list[Entity], clause: int, targets: RoleTargets) -> None:
    roles = _roles(statement)
    if roles is None:
        return
    subject, obj = roles
    for i, entity in enumerate(entities):
        targets.subject[clause, i] = float(subject.matches(entity))
        targets.object[clause, i] = float(obj.matches(entity))
    targets.known[clause, SUBJECT] = targets.known[clause, OBJECT] = True

    if isinstance(statement, Relation) and statement.reference is None and statement.relation in PAIR_RELATIONS:
        for i, a in enumerate(entities):
            for j, b in enumerate(entities):
                if i != j:
                    targets.relation[clause, i, j] = float(holds(statement.relation, a, b))
        targets.known[clause, RELATION] = True

    if isinstance(statement, Quantified):
        targets.amount[clause] = float(statement.amount)
        targets.known[clause, RATIO if statement.is_ratio else COUNT] = True

    if isinstance(statement, Selection):
        key, extreme, _ = lexicon.SELECTORS[statement.selector]
        candidates = [i for i, entity in enumerate(entities) if subject.matches(entity)]
        if candidates:
            order = SELECTOR_KEYS[key]
            pick = min if extreme == "min" else max
            targets.selected[clause] = pick(candidates, key=lambda i: order(entities[i]))
            targets.known[clause, SELECTED] = True
