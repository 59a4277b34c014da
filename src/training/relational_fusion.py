"""The relational scorer behind the package's `fusion` contract: image tokens -> object slots ->
RelationalHead (relational.py).

SlotReader        per image token: whether an object's centre lies under it, where in the token's
                  cell, and the object's colour, shape, area and shade; the SLOTS tokens likeliest
                  to hold a centre become the slots (ONNX TopK), each with its token, its colour
                  and shape probabilities and its geometry. The "peaks" reader (ModelConfig.
                  slot_reader) also reads each token's 3x3 neighbourhood and lets only a token
                  that is the likeliest centre of its neighbourhood become a slot.
RelationalFusion  the fusion scorer's interface (token ids, mask, image tokens -> logits), and
                  an explanation in the cross-attention layout (B, 1, T, N): for each token, how
                  much the subject and object roles that read it fit each object's cell.

Shape letters: B texts, N image tokens, G grid side, D width, K slots, T tokens, R readings.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .model import ModelConfig
from .relational import GEOMETRY, ROLES, RelationalHead

SLOTS = 15  # the most entities a ShapeWorld scene has
CENTRE, OFFSET, AREA, SHADE, CLASSES = 0, slice(1, 3), 3, 4, 5  # where each reading starts


class SlotReader(nn.Module):
    """Image tokens (B, N, D) -> per-token readings (B, N, R): centre logit, offset of the centre
    within the cell (2, before tanh), area, shade, colour logits, shape logits."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.colors, self.shapes = config.probe_colors, config.probe_shapes
        width = config.n_embd
        self.read = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, CLASSES + self.colors + self.shapes))
        grid = config.grid_size
        self.grid = grid
        self.peaks_only = config.slot_reader == "peaks"
        centres = (torch.arange(grid) + 0.5) / grid * 2 - 1  # each cell's centre, in -1..1
        rows, columns = torch.meshgrid(centres, centres, indexing="ij")
        self.register_buffer("cell_xy", torch.stack([columns.flatten(), rows.flatten()], -1), persistent=False)  # (N, 2)
        self.half_cell = 1.0 / grid

    @property
    def features(self) -> int:
        """Width of a slot: its token, colour and shape probabilities, and GEOMETRY last."""
        return self.read[0].in_features + self.colors + self.shapes + GEOMETRY

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.read(image)  # (B, N, R)

    def peaks(self, readings: torch.Tensor) -> torch.Tensor:
        """Centre logits (B, N) where a token whose 3x3 neighbourhood on the grid holds a likelier
        centre of the same colour and shape gets the lowest value instead: one object then yields
        one slot. The token reader marked about one cell next to an object's centre for every
        three objects (1,057 in 400 scenes), always reading the same object there. Two different
        objects side by side both stay: 27% of objects have another's centre in a neighbouring
        cell, and a plain 3x3 maximum merged them (fewer slots than objects, worse counts).

        In the model, not after it, so that the head trains on the slots that it is given
        (suppressing after a head trained on duplicates lowered 1.3.0's macro from 78.3% to 76.4%)."""
        G = self.grid
        centre = readings[..., CENTRE]  # (B, N)
        colors = readings[..., CLASSES:CLASSES + self.colors].argmax(-1)  # (B, N)
        shapes = readings[..., CLASSES + self.colors:].argmax(-1)  # (B, N)
        kind = (colors * self.shapes + shapes).float()  # (B, N) one number per colour and shape
        lowest = torch.finfo(centre.dtype).min
        # Padded with the lowest logit and a kind no token has, so that the border has no neighbour.
        padded_centre = F.pad(centre.reshape(-1, G, G), (1, 1, 1, 1), value=lowest)  # (B, G + 2, G + 2)
        padded_kind = F.pad(kind.reshape(-1, G, G), (1, 1, 1, 1), value=-1.0)
        beaten = torch.zeros_like(centre, dtype=torch.bool).reshape(-1, G, G)  # (B, G, G)
        for dy in range(3):
            for dx in range(3):
                if (dy, dx) == (1, 1):
                    continue
                neighbour = padded_centre[:, dy:dy + G, dx:dx + G]  # (B, G, G)
                same = padded_kind[:, dy:dy + G, dx:dx + G] == kind.reshape(-1, G, G)
                beaten = beaten | (same & (neighbour > centre.reshape(-1, G, G)))
        return torch.where(beaten.reshape(centre.shape), torch.full_like(centre, lowest), centre)

    def slots(self, image: torch.Tensor):
        """slots (B, K, F), valid (B, K) in 0..1, their cells (B, K), and every token's readings (B, N, R)."""
        readings = self(image)  # (B, N, R)
        centre = self.peaks(readings) if self.peaks_only else readings[..., CENTRE]  # (B, N)
        centre, cells = centre.topk(SLOTS, dim=1)  # (B, K) each
        picked = readings.gather(1, cells[..., None].expand(-1, -1, readings.size(-1)))  # (B, K, R)
        tokens = image.gather(1, cells[..., None].expand(-1, -1, image.size(-1)))  # (B, K, D)
        xy = self.cell_xy[cells] + torch.tanh(picked[..., OFFSET]) * self.half_cell  # (B, K, 2)
        colors = torch.softmax(picked[..., CLASSES:CLASSES + self.colors], -1)
        shapes = torch.softmax(picked[..., CLASSES + self.colors:], -1)
        slots = torch.cat([tokens, colors, shapes, xy, picked[..., AREA:SHADE + 1]], -1)  # (B, K, F)
        return slots, torch.sigmoid(centre), cells, readings


class RelationalFusion(nn.Module):
    """Image-text matching over the objects that SlotReader finds: the logit that the text is true."""

    explanation_layers = 1  # the explanation output has one "layer" of one "head"
    explanation_heads = 1

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.reader = SlotReader(config)
        self.head = RelationalHead(config.vocab_size, self.reader.features, max_length=config.n_positions)

    def forward(self, input_ids, attention_mask, image, texts_per_image: int = 1):
        return self.read(input_ids, attention_mask, image, texts_per_image)[0]

    def read(self, input_ids, attention_mask, image, texts_per_image: int = 1):
        """logits (B,), each clause's ClauseOutputs, the roles' reads of the tokens (B, C * ROLES, T),
        and the slots' valid (B, K), cells (B, K) and the readings of every token (B / K', N, R), where
        K' = texts_per_image consecutive texts share an image (image is (B / K', N, D))."""
        slots, valid, cells, readings = self.reader.slots(image)
        if texts_per_image > 1:
            slots, valid, cells = (t.repeat_interleave(texts_per_image, 0) for t in (slots, valid, cells))
        logits, clauses, reads = self.head(slots, valid, input_ids, attention_mask)
        return logits, clauses, reads, valid, cells, readings

    def scores_states_and_attentions(self, input_ids, attention_mask, image, texts_per_image: int = 1):
        """As FusionScorer's: the logits (B,), no token states, and one explanation map (B, 1, T, N)."""
        logits, clauses, reads, valid, cells, _ = self.read(input_ids, attention_mask, image, texts_per_image)
        pointing = torch.zeros_like(reads[:, :1].transpose(1, 2).expand(-1, -1, cells.size(1)))  # (B, T, K)
        for c, clause in enumerate(clauses):
            for role, fit_logit in ((0, clause.subject), (1, clause.object)):
                # Fits as they are, not normalised per role: where no object fits a role, a
                # normalised map would blow rounding noise up into a confident-looking one.
                fit = torch.sigmoid(fit_logit) * valid  # (B, K)
                pointing = pointing + reads[:, c * ROLES + role, :, None] * fit[:, None]  # (B, T, K)
        image_tokens = self.reader.cell_xy.size(0)
        in_cell = (cells[..., None] == torch.arange(image_tokens, device=cells.device)).float()  # (B, K, N)
        where = pointing @ in_cell  # (B, T, N)
        return logits, None, [where[:, None]]


def centre_targets(present: torch.Tensor, targets: torch.Tensor, grid: int, sigma: float = 0.0) -> torch.Tensor:
    """The centre flag's target per cell (B, N). sigma 0: one-hot, 1 only at the cells that hold an
    object's centre. sigma > 0 (in cell units): the largest over objects of exp(-d^2 / (2 sigma^2)),
    d the distance from the cell's centre to the object's exact centre (its cell plus the offset
    target), so that the cell holding the centre is near 1 and its neighbours partly on: a reader
    that puts its peak one cell off is then punished less than one that misses the object."""
    if sigma <= 0:
        return present.float()
    rows, columns = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    cells = torch.stack([columns.flatten(), rows.flatten()], -1).to(targets)  # (N, 2) x, y in cells
    # Offsets in -1..1 span the cell: the exact centre is the cell's corner plus (offset + 1) / 2.
    centres = cells + (targets[..., 2:4] + 1) / 2  # (B, N, 2) each cell's object centre, if any
    # At most SLOTS objects a scene: distances to those alone, not to all N cells (10x less work
    # on every step of the stage).
    held, objects = present.float().topk(min(SLOTS, present.size(1)), dim=1)  # (B, K) each
    centres = centres.gather(1, objects[..., None].expand(-1, -1, 2))  # (B, K, 2)
    squared = ((cells + 0.5)[None, :, None] - centres[:, None]).pow(2).sum(-1)  # (B, N cells, K objects)
    closeness = torch.exp(-squared / (2 * sigma ** 2)) * held[:, None]
    return closeness.amax(-1)


def reader_loss(readings: torch.Tensor, targets: torch.Tensor, present: torch.Tensor, config: ModelConfig,
                centre_sigma: float = 0.0) -> torch.Tensor:
    """SlotReader's readings (B, N, R) against each cell's object (B, N, 6: colour, shape, x and y
    offset within the cell in -1..1, area, shade; where `present` (B, N) marks an object's centre):
    the centre flag everywhere (one-hot, or soft around each centre with centre_sigma > 0, see
    centre_targets), the rest at the centres."""
    flag = centre_targets(present, targets, config.grid_size, centre_sigma)
    centre = F.binary_cross_entropy_with_logits(readings[..., CENTRE], flag)
    at = present.bool()
    if not at.any():
        return centre
    r, t = readings[at], targets[at]  # (M, R), (M, 6)
    colors, shapes = r[:, CLASSES:CLASSES + config.probe_colors], r[:, CLASSES + config.probe_colors:]
    classes = F.cross_entropy(colors, t[:, 0].long()) + F.cross_entropy(shapes, t[:, 1].long())
    geometry = F.mse_loss(torch.tanh(r[:, OFFSET]), t[:, 2:4]) + F.mse_loss(r[:, AREA:SHADE + 1], t[:, 4:6])
    return centre + classes + geometry
