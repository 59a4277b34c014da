"""The world bank: generated scenes rendered once, with their captions tokenised once.

Rendering and caption sampling are pure Python and far slower than a training step, so they run
before training. World i is made from its own seeded random source (`world_seed(seed, i)`), so a
bank is the same whatever the number of worker processes, and any prefix of it is reproducible.

Tensors of a bank (W worlds, K matching statements per world, L tokens):
  images         uint8 (W, H, W, 3)
  caption_ids    int64 (W, L)     [CLS] canonical caption [SEP], [PAD]-padded: the LM target
  match_ids      int64 (W, K, L)  [CLS] statement [SEP], [PAD]-padded
  match_labels   float32 (W, K)   1 = true of the world, 0 = false
  match_valid    bool (W, K)      False where the generator gave fewer than K statements
  match_forms    int64 (W, K)     index into `forms` (existential, spatial, ...) for per-form stats
  entity_counts  int64 (W,)       for the curriculum
  cell_colors    uint8 (W, G, G)  per image-token cell: 0 background, 1 + index in COLORS
  cell_shapes    uint8 (W, G, G)  per image-token cell: 0 background, 1 + index in SHAPES
  cell_objects   float32 (W, G, G, 3)  per cell: 1 where an entity's centre lies, else 0; that
                 entity's area and shade, scaled to about -1..1 (0 elsewhere)
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .language import CaptionMix, caption_form, describe, sample_match_captions
from .render import render, render_float
from .tokenizer import WordTokenizer
from .vocab import vocabulary
from .world import COLORS, SHAPES, World, sample_world

UNKNOWN_FORM = "other"

# The sources that decide what a bank holds: the scenes and their rendering, the caption and
# statement rules, the vocabulary and tokenisation, and this file.
BANK_SOURCES = ("data.py", "world.py", "render.py", "vocab.py", "tokenizer.py", "language")


def rules_digest() -> str:
    """The first 12 hex digits of the sha256 of BANK_SOURCES. A bank records it, so that training
    refuses a bank whose scenes or captions today's rules would no longer make (its data config
    alone cannot tell: a changed caption rule leaves the config as it was)."""
    root = Path(__file__).parent
    files = sorted(path for name in BANK_SOURCES
                   for path in ([root / name] if (root / name).is_file() else (root / name).rglob("*.py")))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


@dataclass
class DataConfig:
    seed: int = 1234  # bank seed; world i uses world_seed(seed, i)
    worlds: int = 60000  # W: scenes in the bank
    min_entities: int = 1  # ShapeWorld scenes have 1 to 10 or more shapes
    max_entities: int = 15  # the shared sets go up to 15
    match_captions: int = 8  # K: true/false statements stored per world (about half true)
    max_length: int = 32  # L: token rows, [CLS] and [SEP] included (longer statements are dropped)
    image_size: int = 100  # rendered at the model's input size: no resizing anywhere
    label_grid: int = 13  # G: side of the cell-label grid, the model's token grid
    workers: int = 2  # generation processes
    # The caption mix (language.CaptionMix). Share of false relational captions whose named
    # entities are all in the scene, so that only the relation is wrong: at 0 about a quarter
    # are, and the model trained so (1.2.0) judged relations by whether their objects exist: it
    # called 70 of the 72 such false spatial captions of the shared dev half true. ShapeWorld's
    # false relations are of this kind 32-58% of the time.
    hard_negative_rate: float = 0.0
    # Count captions count 0-6 things about equally, as ShapeWorld's do; off, two in three
    # count exactly one thing.
    spread_counts: bool = False
    # Only these caption forms (e.g. ["spatial", "comparative"]); None: every form. A stage that
    # teaches relations on two-shape scenes uses it: mixed with the other forms, false relations
    # about present objects were too rare a signal for the scorer to start judging relations.
    forms: list[str] | None = None

    @classmethod
    def from_dict(cls, values: dict) -> "DataConfig":
        return cls(**values)


def world_seed(seed: int, index: int) -> int:
    return seed * 1_000_003 + index


def cell_labels(world: World, size: int, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """Colour and shape of what is visible in each of grid x grid cells: the entity covering most
    of the cell (at least a tenth of it), later entities hiding earlier ones; 0 = background."""
    owner = np.full((size, size), -1, dtype=np.int64)  # index of the topmost entity per pixel
    for k, entity in enumerate(world.entities):
        alone = render_float(World((entity,)), size).max(axis=-1)  # (size, size)
        owner[alone > 0.5 * max(entity.rgb)] = k
    blocks = np.array_split(np.arange(size), grid)
    colors = np.zeros((grid, grid), dtype=np.uint8)
    shapes = np.zeros((grid, grid), dtype=np.uint8)
    for i, rows in enumerate(blocks):
        for j, cols in enumerate(blocks):
            cell = owner[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
            counts = np.bincount(cell[cell >= 0], minlength=len(world.entities))
            if counts.size and counts.max() >= 0.1 * cell.size:
                entity = world.entities[int(counts.argmax())]
                colors[i, j] = 1 + COLORS.index(entity.color)
                shapes[i, j] = 1 + SHAPES.index(entity.shape)
    return colors, shapes


AREA_SCALE = 20.0  # entity areas are 0.005..0.0625 of the image
SHADE_SCALE = 2.5  # shades are -0.4..0.4


def centre_cell(entity, grid: int) -> tuple[int, int]:
    """(row, column) of the grid x grid cell that holds the entity's centre."""
    return min(grid - 1, int(entity.center[1] * grid)), min(grid - 1, int(entity.center[0] * grid))


def object_labels(world: World, grid: int) -> np.ndarray:
    """(grid, grid, 3): 1 in the cell of each entity's centre, with its scaled area and shade;
    where two centres share a cell, the entity drawn later (on top) wins."""
    labels = np.zeros((grid, grid, 3), dtype=np.float32)
    for entity in world.entities:
        labels[centre_cell(entity, grid)] = (1.0, AREA_SCALE * entity.area, SHADE_SCALE * entity.shade)
    return labels


def _generate_one(config: DataConfig, index: int):
    rng = random.Random(world_seed(config.seed, index))
    n_entities = rng.randint(config.min_entities, config.max_entities)
    world = sample_world(rng, min_entities=n_entities, max_entities=n_entities)
    image = render(world, size=config.image_size)
    caption = describe(world)
    mix = CaptionMix(config.hard_negative_rate, config.spread_counts, tuple(config.forms) if config.forms else None)
    statements = sample_match_captions(world, rng, config.match_captions, mix)
    labels = (*cell_labels(world, config.image_size, config.label_grid), object_labels(world, config.label_grid))
    return image, caption, statements, len(world.entities), labels


def _generate_chunk(args: tuple[DataConfig, int, int]):
    config, start, stop = args
    return [_generate_one(config, i) for i in range(start, stop)]


@dataclass
class WorldBank:
    images: torch.Tensor
    caption_ids: torch.Tensor
    match_ids: torch.Tensor
    match_labels: torch.Tensor
    match_valid: torch.Tensor
    match_forms: torch.Tensor
    entity_counts: torch.Tensor
    cell_colors: torch.Tensor
    cell_shapes: torch.Tensor
    cell_objects: torch.Tensor
    forms: list[str]
    vocabulary: list[str]
    config: dict
    rules: str = ""  # rules_digest() of the code that made the bank ("" in banks made before it was recorded)

    def __len__(self) -> int:
        return self.images.size(0)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(path.suffix + ".tmp")
        torch.save(asdict(self), temporary)
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> "WorldBank":
        return cls(**torch.load(path))

    def subset(self, index: torch.Tensor) -> "WorldBank":
        tensors = {k: v[index] for k, v in asdict(self).items() if isinstance(v, torch.Tensor)}
        return WorldBank(**tensors, forms=self.forms, vocabulary=self.vocabulary, config=self.config)


def generate_bank(config: DataConfig, log=print) -> WorldBank:
    tokenizer = WordTokenizer(vocabulary())
    W, K, L = config.worlds, config.match_captions, config.max_length
    chunk = 500
    jobs = [(config, start, min(start + chunk, W)) for start in range(0, W, chunk)]
    images = np.zeros((W, config.image_size, config.image_size, 3), dtype=np.uint8)
    caption_ids = torch.full((W, L), tokenizer.pad_id, dtype=torch.long)
    match_ids = torch.full((W, K, L), tokenizer.pad_id, dtype=torch.long)
    match_labels = torch.zeros((W, K), dtype=torch.float32)
    match_valid = torch.zeros((W, K), dtype=torch.bool)
    match_forms = torch.zeros((W, K), dtype=torch.long)
    entity_counts = torch.zeros(W, dtype=torch.long)
    cell_colors = torch.zeros((W, config.label_grid, config.label_grid), dtype=torch.uint8)
    cell_shapes = torch.zeros((W, config.label_grid, config.label_grid), dtype=torch.uint8)
    cell_objects = torch.zeros((W, config.label_grid, config.label_grid, 3), dtype=torch.float32)
    forms: dict[str, int] = {}
    unknown_words: set[str] = set()
    dropped = 0

    def put(row: torch.Tensor, text: str) -> bool:
        ids = tokenizer.encode(text)
        unknown_words.update(tokenizer.unknown_words(text))
        if len(ids) > L:
            return False
        row[: len(ids)] = torch.tensor(ids)
        return True

    started = time.time()
    index = 0
    context = multiprocessing.get_context("fork")
    with context.Pool(config.workers) if config.workers > 1 else _InlinePool() as pool:
        for results in pool.imap(_generate_chunk, jobs):
            for image, caption, statements, n_entities, (colors, shapes, objects) in results:
                images[index] = image
                cell_colors[index] = torch.from_numpy(colors)
                cell_shapes[index] = torch.from_numpy(shapes)
                cell_objects[index] = torch.from_numpy(objects)
                if not put(caption_ids[index], caption):
                    raise ValueError(f"canonical caption longer than {L} tokens: {caption!r}")
                entity_counts[index] = n_entities
                k = 0
                for text, value in statements[:K]:
                    if not put(match_ids[index, k], text):
                        dropped += 1
                        continue
                    form = caption_form(text) or UNKNOWN_FORM
                    match_forms[index, k] = forms.setdefault(form, len(forms))
                    match_labels[index, k] = float(value)
                    match_valid[index, k] = True
                    k += 1
                index += 1
            elapsed = time.time() - started
            log(f"generate {index}/{W} worlds | {index / elapsed:.0f} worlds/s | eta {(W - index) * elapsed / index:.0f}s")
    if unknown_words:
        raise ValueError(f"generated words missing from the vocabulary: {sorted(unknown_words)}")
    if dropped:
        log(f"generate: dropped {dropped} statements longer than {L} tokens")
    return WorldBank(
        images=torch.from_numpy(images),
        caption_ids=caption_ids,
        match_ids=match_ids,
        match_labels=match_labels,
        match_valid=match_valid,
        match_forms=match_forms,
        entity_counts=entity_counts,
        cell_colors=cell_colors,
        cell_shapes=cell_shapes,
        cell_objects=cell_objects,
        forms=sorted(forms, key=forms.get),
        vocabulary=tokenizer.vocabulary,
        config=asdict(config),
        rules=rules_digest(),
    )


class _InlinePool:
    """The Pool interface without processes, for workers=1 (tests, debugging)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def imap(self, function, jobs):
        return map(function, jobs)


@dataclass
class Batch:
    images: torch.Tensor  # uint8 (B, H, W, 3)
    caption_ids: torch.Tensor  # (B, L') trimmed to the longest row
    match_ids: torch.Tensor  # (B * K, L''), K consecutive rows per image
    match_mask: torch.Tensor  # (B * K, L'')
    match_labels: torch.Tensor  # (B * K,)
    match_forms: torch.Tensor  # (B * K,)
    cell_colors: torch.Tensor  # (B, G * G) probe targets
    cell_shapes: torch.Tensor  # (B, G * G)
    cell_objects: torch.Tensor  # (B, G * G, 3) centre flag, area, shade
    mention_targets: torch.Tensor  # (B * K, L'') 1/0: the image shows the phrase headed here; -1: no phrase head

    def to(self, device: torch.device) -> "Batch":
        return Batch(**{name: value.to(device) for name, value in vars(self).items()})


def trim(ids: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Drops the padding columns that no row uses."""
    length = int((ids != pad_id).sum(dim=-1).max())
    return ids[..., :length]


def make_batch(bank: WorldBank, worlds: torch.Tensor, per_image: int, generator: torch.Generator, pad_id: int = 0) -> Batch:
    """The batch of the given worlds: each caption, and exactly `per_image` of each world's valid
    statements drawn at random (without replacement while there are enough, so a world with
    fewer valid statements repeats some)."""
    valid = bank.match_valid[worlds]  # (B, K_bank)
    if not bool(valid.any(dim=1).all()):
        raise ValueError("a world without any matching statement was drawn")
    scores = torch.rand(valid.shape, generator=generator).masked_fill(~valid, 2.0)  # invalid sort last
    order = scores.argsort(dim=1)  # (B, K_bank): valid statements first, shuffled
    counts = valid.sum(dim=1, keepdim=True)  # (B, 1)
    slots = torch.arange(per_image)[None, :] % counts  # (B, K): wraps around within the valid ones
    picks = order.gather(1, slots)  # (B, K)
    rows = worlds[:, None].expand_as(picks).flatten()  # (B * K,)
    picks = picks.flatten()  # (B * K,)
    match_ids = trim(bank.match_ids[rows, picks], pad_id)  # (B * K, L'')
    return Batch(
        images=bank.images[worlds],
        caption_ids=trim(bank.caption_ids[worlds], pad_id),
        match_ids=match_ids,
        match_mask=(match_ids != pad_id).long(),
        match_labels=bank.match_labels[rows, picks],
        match_forms=bank.match_forms[rows, picks],
        cell_colors=bank.cell_colors[worlds].flatten(1).long(),
        cell_shapes=bank.cell_shapes[worlds].flatten(1).long(),
        cell_objects=bank.cell_objects[worlds].flatten(1, 2),
        mention_targets=mention_targets(
            match_ids,
            torch.arange(len(worlds)).repeat_interleave(per_image),
            bank.cell_colors[worlds].flatten(1).long(),
            bank.cell_shapes[worlds].flatten(1).long(),
            tuple(bank.vocabulary),
        ),
    )


ANY = 0  # "any colour" / "any shape" in the mention tables
ANY_SHAPE_WORD = len(SHAPES) + 1  # "shape" / "shapes" heads a phrase without naming a shape


@functools.lru_cache(maxsize=4)
def word_classes(vocabulary: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per token id: 1 + index in COLORS (0: not a colour word); 1 + index in SHAPES, singular or
    plural, or ANY_SHAPE_WORD for "shape(s)" (0: not a shape word)."""
    color_of = torch.zeros(len(vocabulary), dtype=torch.long)
    shape_of = torch.zeros(len(vocabulary), dtype=torch.long)
    for i, word in enumerate(vocabulary):
        if word in COLORS:
            color_of[i] = 1 + COLORS.index(word)
        for k, shape in enumerate(SHAPES):
            if word in (shape, shape + ("es" if shape.endswith("s") else "s")):
                shape_of[i] = 1 + k
        if word in ("shape", "shapes"):
            shape_of[i] = ANY_SHAPE_WORD
    return color_of, shape_of


def mention_targets(ids, image_rows, cell_colors, cell_shapes, vocabulary: tuple[str, ...]) -> torch.Tensor:
    """For each noun-phrase head of each statement ("red square", "red shape", "square"): 1 if
    some cell of its image shows such an object, else 0; -1 for every other token (and for a bare
    "shape", which any scene shows). ids (M, L), image_rows (M,), cell labels (B, G * G)."""
    color_of, shape_of = word_classes(vocabulary)
    shapes = shape_of[ids]  # (M, L)
    colors_before = F.pad(color_of[ids][:, :-1], (1, 0))  # (M, L): the colour word just before
    heads = shapes > 0
    want_color = torch.where(heads, colors_before, torch.zeros_like(shapes))  # ANY when no colour word
    want_shape = torch.where(shapes == ANY_SHAPE_WORD, torch.zeros_like(shapes), shapes)
    # shown[b, c, s]: image b shows colour c with shape s; row / column ANY: any colour / shape.
    B = cell_colors.size(0)
    n_colors, n_shapes = len(COLORS) + 1, len(SHAPES) + 1
    shown = torch.zeros(B, n_colors * n_shapes, dtype=torch.bool)
    shown.scatter_(1, cell_colors * n_shapes + cell_shapes, True)
    shown = shown.view(B, n_colors, n_shapes)
    shown[:, ANY, :] = False  # background cells
    shown[:, :, ANY] = False
    shown[:, ANY, :] = shown.any(dim=1)
    shown[:, :, ANY] = shown.any(dim=2)
    targets = shown[image_rows[:, None], want_color, want_shape].float()  # (M, L)
    phrase = heads & ~((want_color == ANY) & (want_shape == ANY))
    return torch.where(phrase, targets, torch.full_like(targets, -1.0))
