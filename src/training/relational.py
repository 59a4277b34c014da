"""A relational head for image-text matching over object slots (issue 16's design).

Soft attention over the image grid reads an average of what a phrase matches, so the fusion
scorer of 1.2.0 judged "a red square is to the left of a blue circle" mostly by whether a red
square and a blue circle are there (it got 4 of 68 false spatial statements about present objects
right). This head makes the steps of a statement explicit instead:

  objects    K slots, each a feature vector whose last four entries are its x, y (-1..1), area and
             shade (the geometry that relations compare), with a validity in 0..1
  roles      a text transformer pools `[CLS] statement [SEP]` with learned queries into, for each of
             C clauses (a connective has two), five vectors: the subject a, the object b, the
             relation r, the selection direction s and the amount n
  per clause fit_a(i), fit_b(i): how well slot i fits a and b (bilinear score, sigmoid);
             rel(i, j): whether i stands in r to j (an MLP over the pair's geometry, the product
             of their encodings and r);
             then soft logic: noisy-or existence, soft counts (of a, of a-and-b, of a related to
             some b, of a related to none) compared with the amount, ratios, and the b-fit of the
             extreme a along the selection direction
  output     an MLP over [CLS] and every clause's features gives the logit

Every intermediate has an auxiliary target (relational_targets.py); `auxiliary_loss` scores them.
Shape letters: B statements, K slots, C clauses, D width, F slot features.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .model import Block, ModelConfig
from .relational_targets import CLAUSES, COUNT, OBJECT, RATIO, RELATION, SELECTED, SUBJECT

GEOMETRY = 4  # x, y, area, shade: the last entries of a slot's features
ROLES = 5  # per clause: subject, object, relation, selection, amount
EPS = 1e-6


def mlp(inputs: int, width: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, outputs))


def noisy_or(p: torch.Tensor, dims) -> torch.Tensor:
    """1 - prod(1 - p): the chance that at least one holds, with gradients for every term (a max
    would pass them to one)."""
    return 1 - torch.exp(torch.log(1 - p.clamp(max=1 - 1e-4)).sum(dims))


def compared(value: torch.Tensor, amount: torch.Tensor) -> torch.Tensor:
    """(B, 4) soft value >= amount, value > amount, value <= amount, value < amount, for whole
    numbers (a margin of half a unit)."""
    return torch.stack([value - amount + 0.5, value - amount - 0.5, amount + 0.5 - value, amount - 0.5 - value], -1).mul(4).sigmoid()


class StatementRoles(nn.Module):
    """[CLS] statement [SEP] -> the [CLS] state (B, D), C * ROLES role vectors (B, C * ROLES, D)
    and how much each role read of each token (B, C * ROLES, T).

    The text layers are the project's own pre-norm blocks (model.Block): PyTorch's
    TransformerEncoder takes a fused path in evaluation mode that ONNX export cannot trace."""

    def __init__(self, vocab_size: int, width: int, max_length: int, heads: int = 4, layers: int = 2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, width)
        self.position = nn.Parameter(torch.randn(max_length, width) * 0.02)
        config = ModelConfig(n_embd=width, n_head=heads)
        self.layers = nn.ModuleList(Block(config, cross_attention=False) for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        self.queries = nn.Parameter(torch.randn(CLAUSES * ROLES, width) * 0.1)
        self.key = nn.Linear(width, width)
        self.value = nn.Linear(width, width)

    def forward(self, input_ids, attention_mask):
        padding = attention_mask == 0  # (B, T)
        h = self.embed(input_ids) + self.position[: input_ids.size(1)]
        for layer in self.layers:
            h, _, _ = layer(h, ~padding[:, None, None, :])  # (B, T, D)
        h = self.norm(h)
        scores = torch.einsum("rd,btd->brt", self.queries, self.key(h)) / math.sqrt(h.size(-1))
        reads = torch.softmax(scores.masked_fill(padding[:, None], torch.finfo(scores.dtype).min), -1)  # (B, C * ROLES, T)
        return h[:, 0], reads @ self.value(h), reads


class ClauseOutputs:
    """One clause's intermediate logits, for the auxiliary targets: fit to a and b (B, K), the
    relation (B, K, K), the amount (B, 2: the count before softplus, the ratio's logit), and how
    extreme each slot is along the selection's direction (B, K)."""

    def __init__(self, subject, obj, relation, amount, selection):
        self.subject, self.object, self.relation, self.amount, self.selection = subject, obj, relation, amount, selection


class RelationalHead(nn.Module):
    FEATURES = 4 * 4 + 4 + 2 * 4 + 8  # per clause: see `clause`

    def __init__(self, vocab_size: int, slot_features: int, width: int = 64, max_length: int = 32):
        super().__init__()
        self.text = StatementRoles(vocab_size, width, max_length)
        self.slot = mlp(slot_features, width, width)
        self.fit_subject = nn.Linear(width, width)
        self.fit_object = nn.Linear(width, width)
        # A fit starts unlikely (sigmoid(-2) = 0.12): at 0.5, noisy-or existence over 15 slots is
        # 1 - 0.5^15 and passes nearly no gradient.
        self.fit_bias = nn.Parameter(torch.tensor(-2.0))
        # The pair MLP runs K * K times per clause: its first layer adds the relation's projection
        # once per statement to the pair's geometry, and it is half as wide as the rest.
        pair_width = width // 2
        self.relation_query = nn.Linear(width, pair_width)
        self.relation_geometry = nn.Linear(GEOMETRY + 2 * (GEOMETRY - 1), pair_width, bias=False)
        # What the two objects share ("the same shape as", "a different colour from"): the
        # element-wise product of their encodings.
        self.relation_likeness = nn.Linear(width, pair_width, bias=False)
        self.relation = nn.Sequential(nn.ReLU(), nn.Linear(pair_width, pair_width), nn.ReLU(), nn.Linear(pair_width, 1))
        self.direction = nn.Linear(width, GEOMETRY)
        self.amount = nn.Linear(width, 2)
        self.out = mlp(width + CLAUSES * self.FEATURES, width, 1)

    def forward(self, slots, valid, input_ids, attention_mask):
        """slots (B, K, F), valid (B, K) in 0..1, input_ids and attention_mask (B, T) -> logits (B,),
        each clause's ClauseOutputs, and how much each role read of each token (B, C * ROLES, T)."""
        cls, roles, reads = self.text(input_ids, attention_mask)
        encoded = self.slot(slots)  # (B, K, D)
        features, clauses = [], []
        for c in range(CLAUSES):
            f, outputs = self.clause(encoded, slots[..., -GEOMETRY:], valid, roles[:, c * ROLES:(c + 1) * ROLES])
            features.append(f)
            clauses.append(outputs)
        return self.out(torch.cat([cls, *features], -1)).squeeze(-1), clauses, reads

    def clause(self, encoded, geometry, valid, roles):
        subject, obj, relation, direction, amount = roles.unbind(1)  # (B, D) each
        B, K, D = encoded.shape
        subject_logit = torch.einsum("bkd,bd->bk", encoded, self.fit_subject(subject)) / math.sqrt(D) + self.fit_bias
        object_logit = torch.einsum("bkd,bd->bk", encoded, self.fit_object(obj)) / math.sqrt(D) + self.fit_bias
        fit_a, fit_b = torch.sigmoid(subject_logit) * valid, torch.sigmoid(object_logit) * valid  # (B, K)

        pair = torch.cat([
            geometry[:, :, None] - geometry[:, None],  # (B, K, K, 4) differences
            geometry[:, :, None, :3].expand(B, K, K, 3), geometry[:, None, :, :3].expand(B, K, K, 3),
        ], -1)
        likeness = self.relation_likeness(encoded[:, :, None] * encoded[:, None])  # (B, K, K, D / 2)
        hidden = self.relation_geometry(pair) + likeness + self.relation_query(relation)[:, None, None]  # (B, K, K, D / 2)
        relation_logit = self.relation(hidden).squeeze(-1)  # (B, K, K)
        not_self = 1 - torch.eye(K, device=encoded.device)
        related = torch.sigmoid(relation_logit) * not_self * fit_b[:, None]  # (B, K, K): i relates to a b at j
        a_related = noisy_or(related, 2)  # (B, K)

        count_a, count_ab = fit_a.sum(1), (fit_a * fit_b).sum(1)
        count_related, count_unrelated = (fit_a * a_related).sum(1), (fit_a * (1 - a_related)).sum(1)
        amount_logits = self.amount(amount)  # (B, 2)
        count = F.softplus(amount_logits[:, 0])
        ratio = torch.sigmoid(amount_logits[:, 1])
        # Over at least one: a ratio over a near-empty subject would pass gradients of 1 / EPS, and
        # clipping the gradient norm would then silence every other part of the model.
        ratio_ab, ratio_related = count_ab / count_a.clamp(min=1), count_related / count_a.clamp(min=1)
        extremeness = torch.einsum("bkf,bf->bk", geometry, self.direction(direction))  # (B, K)
        selection_logit = torch.log(fit_a + EPS) + extremeness
        selection_logit = selection_logit.masked_fill(valid == 0, torch.finfo(selection_logit.dtype).min)  # no slot there
        selected = torch.softmax(selection_logit, -1)  # (B, K)

        features = torch.cat([
            compared(count_ab, count), compared(count_related, count), compared(count_unrelated, count), compared(count_a, count),
            torch.log1p(torch.stack([count_ab, count_related, count_unrelated, count_a], -1)),
            compared(8 * ratio_ab, 8 * ratio), compared(8 * ratio_related, 8 * ratio),  # eighths: ShapeWorld's finest fractions
            torch.stack([
                noisy_or(fit_a * fit_b, 1), noisy_or(fit_a[:, :, None] * related, (1, 2)), noisy_or(fit_a * (1 - a_related), 1),
                noisy_or(fit_b, 1), ratio_ab, ratio_related, (selected * fit_b).sum(1), (selected * a_related).sum(1),
            ], -1),
        ], -1)
        return features, ClauseOutputs(subject_logit, object_logit, relation_logit, amount_logits, extremeness)


def auxiliary_loss(clauses: list[ClauseOutputs], targets, valid: torch.Tensor) -> torch.Tensor:
    """Each intermediate against its target (relational_targets.RoleTargets stacked over the batch:
    subject, object (B, C, K), relation (B, C, K, K), amount, selected (B, C), known (B, C, 6)),
    summed where a statement defines it and averaged over the whole batch's slots, pairs or
    statements. `valid` (B, K) is 1 for real slots.

    Averaged over the batch, not over the statements that define a target: a target that only a
    few statements of a batch define (a selection, an amount, a connective's second clause) would
    otherwise weigh as much as the subject fits of all of them, and its noisy gradients drowned
    the fits, on which everything else builds (gradient norms 10 to 40 times larger; the fits then
    learnt nothing in 1,500 steps). The selection is taught among the objects that fit its target,
    not through the fits, for the same reason."""
    K = valid.size(1)
    pairs_valid = valid[:, :, None] * valid[:, None] * (1 - torch.eye(K, device=valid.device))
    slots, pairs, statements = valid.sum().clamp(min=1), pairs_valid.sum().clamp(min=1), valid.size(0)
    total = valid.new_zeros(())
    for c, out in enumerate(clauses):
        known = targets.known[:, c].float()  # (B, 6)
        subject = F.binary_cross_entropy_with_logits(out.subject, targets.subject[:, c], reduction="none")
        total = total + (subject * valid * known[:, SUBJECT, None]).sum() / slots
        obj = F.binary_cross_entropy_with_logits(out.object, targets.object[:, c], reduction="none")
        total = total + (obj * valid * known[:, OBJECT, None]).sum() / slots
        relation = F.binary_cross_entropy_with_logits(out.relation, targets.relation[:, c], reduction="none")
        total = total + (relation * pairs_valid * known[:, RELATION, None, None]).sum() / pairs
        amount = targets.amount[:, c]
        count_error = (torch.log1p(F.softplus(out.amount[:, 0])) - torch.log1p(amount)) ** 2
        ratio_error = F.binary_cross_entropy_with_logits(out.amount[:, 1], amount.clamp(0, 1), reduction="none")
        candidates = (targets.subject[:, c] > 0) & (valid > 0)
        candidates[:, 0] |= ~candidates.any(1)  # a clause without candidates is not scored (its weight is 0)
        extremeness = out.selection.masked_fill(~candidates, torch.finfo(out.selection.dtype).min)
        selection_error = F.cross_entropy(extremeness, targets.selected[:, c], reduction="none")
        total = total + (count_error * known[:, COUNT] + ratio_error * known[:, RATIO] + selection_error * known[:, SELECTED]).sum() / statements
    return total
