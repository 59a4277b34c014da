"""The relational head: empty slots are ignored, and only defined targets are scored."""
from __future__ import annotations

import torch

from training.language.parser import parse
from training.relational import RelationalHead, auxiliary_loss
from training.relational_oracle import SLOT_FEATURES, SLOTS, slots_of, stack_targets
from training.relational_targets import role_targets
from training.tokenizer import WordTokenizer
from training.vocab import vocabulary
from training.world import Entity, World

TOKENIZER = WordTokenizer(vocabulary())
WORLD = World((
    Entity("square", "red", 0.0, (0.2, 0.5), (0.08, 0.08), 0.0),
    Entity("circle", "blue", 0.1, (0.8, 0.5), (0.12, 0.12), 0.0),
))
TEXTS = ["a red square is to the left of a blue circle .", "exactly two shapes are red .", "the leftmost shape is red ."]


def inputs():
    slots, valid = slots_of(WORLD)
    ids, mask = TOKENIZER.pad([TOKENIZER.encode(t) for t in TEXTS])
    return slots.expand(len(TEXTS), -1, -1).clone(), valid.expand(len(TEXTS), -1).clone(), ids, mask


def test_what_lies_in_empty_slots_does_not_change_the_logits():
    torch.manual_seed(0)
    head = RelationalHead(len(TOKENIZER.vocabulary), SLOT_FEATURES).eval()
    slots, valid, ids, mask = inputs()
    with torch.no_grad():
        before, _, _ = head(slots, valid, ids, mask)
        slots[:, 2:] = torch.randn_like(slots[:, 2:]) * 3  # junk where valid is 0
        after, _, _ = head(slots, valid, ids, mask)
    assert torch.allclose(before, after, atol=1e-6)


def test_the_auxiliary_loss_scores_only_the_targets_a_statement_defines():
    torch.manual_seed(0)
    head = RelationalHead(len(TOKENIZER.vocabulary), SLOT_FEATURES)
    slots, valid, ids, mask = inputs()
    _, clauses, _ = head(slots, valid, ids, mask)
    defined = stack_targets([role_targets(parse(t), list(WORLD.entities), SLOTS) for t in TEXTS])
    assert auxiliary_loss(clauses, defined, valid).item() > 0
    undefined = stack_targets([role_targets(None, list(WORLD.entities), SLOTS) for _ in TEXTS])
    assert auxiliary_loss(clauses, undefined, valid).item() == 0


def test_the_role_targets_teach_the_fits_within_a_few_steps():
    """The subject fits follow their targets on perfect slots after 60 steps of the auxiliary loss
    alone. The targets differ between the texts ("a red square" fits one slot, "shapes" both), so
    the fits must read the text."""
    torch.manual_seed(0)
    head = RelationalHead(len(TOKENIZER.vocabulary), SLOT_FEATURES)
    slots, valid, ids, mask = inputs()
    targets = stack_targets([role_targets(parse(t), list(WORLD.entities), SLOTS) for t in TEXTS])
    optimizer = torch.optim.Adam(head.parameters(), lr=3e-3)
    for _ in range(60):
        _, clauses, _ = head(slots, valid, ids, mask)
        loss = auxiliary_loss(clauses, targets, valid)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    _, clauses, _ = head(slots, valid, ids, mask)
    fits = torch.sigmoid(clauses[0].subject[:, :2]) > 0.5
    assert fits.tolist() == (targets.subject[:, 0, :2] > 0.5).tolist()
