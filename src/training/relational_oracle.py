"""The relational head on perfect objects: what it reaches once the image part is solved.

An upper bound, and the test bench of the head's design, before it reads objects from the image
grid: each world's entities become slots with their exact colour and shape (one-hot), centre,
area and shade. Statements come from the training generator (hard negatives 0.5, counts spread
as ShapeWorld's); agreement is measured on the development half's statements and world models,
per set, as `evaluate` reports it. A few minutes on 2 cores.

  PYTHONPATH=src /usr/bin/python3 -m training relational-oracle --steps 4000 --worlds 20000 --out runs/relational-oracle.json

Measured so (8 minutes on 2 cores, at 90bdbfe: the statement's text layers were then PyTorch's
TransformerEncoder, since replaced by the project's blocks so that the head exports to ONNX),
agreement on the development half: macro 85.7% over the 17
sets; existential 100 / 100 / 100%, spatial 89.2%, spatial_twoshapes 99.2%, comparative 90.4%,
attribute 96.4%, count 92.4%, ratio 75.2%, selection 86-90%; connectives (logical) 51% and 54%.
Before the pair MLP saw the product of the two objects' encodings, attribute statements ("the
same shape as") were at 79.2% and the macro at 85.4%. The scorer of package 1.2.0, which must
also find the objects in the image: macro 77.5%, spatial 74.0% and 85.6%, count 66.0% (its model
card). With 1,500 steps over 10,000 worlds (before that change): macro 75.3%.
With `--auxiliary-weight 0` (the labels alone; before that change), 4,000 steps: macro 50.4%, chance.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn import functional as F

from .data import AREA_SCALE, SHADE_SCALE, world_seed
from .language import CaptionMix, sample_match_captions
from .language.parser import parse
from .relational import RelationalHead, auxiliary_loss
from .relational_fusion import SLOTS
from .relational_targets import RoleTargets, role_targets
from .tokenizer import WordTokenizer
from .vocab import vocabulary
from .world import COLORS, SHAPES, World, sample_world, world_from_json

SLOT_FEATURES = len(COLORS) + len(SHAPES) + 4
MAX_LENGTH = 32


@dataclass
class OracleData:
    slots: torch.Tensor  # (W, K, F) per world
    valid: torch.Tensor  # (W, K)
    ids: torch.Tensor  # (S, L) per statement
    labels: torch.Tensor  # (S,)
    world: torch.Tensor  # (S,) its world's row
    targets: RoleTargets  # stacked: (S, C, ...)
    sets: list[str]  # (S,) the ShapeWorld set of a development statement; empty for generated data


def slots_of(world: World) -> tuple[torch.Tensor, torch.Tensor]:
    slots, valid = torch.zeros(SLOTS, SLOT_FEATURES), torch.zeros(SLOTS)
    for i, entity in enumerate(world.entities[:SLOTS]):
        slots[i, COLORS.index(entity.color)] = 1
        slots[i, len(COLORS) + SHAPES.index(entity.shape)] = 1
        x, y = entity.center
        slots[i, -4:] = torch.tensor([2 * x - 1, 2 * y - 1, AREA_SCALE * entity.area, SHADE_SCALE * entity.shade])
        valid[i] = 1
    return slots, valid


def stack_targets(rows: list[RoleTargets]) -> RoleTargets:
    return RoleTargets(*(torch.stack([getattr(r, name) for r in rows]) for name in
                         ("subject", "object", "relation", "amount", "selected", "known")))


def build(worlds: list[World], statements: list[list[tuple[str, float]]], tokenizer: WordTokenizer, sets: list[str] | None = None) -> OracleData:
    slots, valid, ids, labels, rows, targets, names = [], [], [], [], [], [], []
    for w, (world, texts) in enumerate(zip(worlds, statements)):
        s, v = slots_of(world)
        slots.append(s)
        valid.append(v)
        for text, label in texts:
            encoded = tokenizer.encode(text)
            if len(encoded) > MAX_LENGTH:
                continue
            ids.append(encoded + [tokenizer.pad_id] * (MAX_LENGTH - len(encoded)))
            labels.append(label)
            rows.append(w)
            targets.append(role_targets(parse(text), world.entities, SLOTS))
            if sets is not None:
                names.append(sets[w])
    return OracleData(torch.stack(slots), torch.stack(valid), torch.tensor(ids), torch.tensor(labels),
                      torch.tensor(rows), stack_targets(targets), names)


def generated_worlds(count: int, seed: int, per_world: int = 8) -> tuple[list[World], list[list[tuple[str, float]]]]:
    """`count` worlds of 1 to SLOTS entities (as many of each size), each with `per_world`
    generator statements: hard negatives half the time, counts spread as ShapeWorld's."""
    mix = CaptionMix(hard_negative_rate=0.5, spread_counts=True)
    worlds, statements = [], []
    for index in range(count):
        rng = random.Random(world_seed(seed, index))
        entities = rng.randint(1, SLOTS)
        world = sample_world(rng, min_entities=entities, max_entities=entities)
        worlds.append(world)
        statements.append([(text, float(value)) for text, value in sample_match_captions(world, rng, per_world, mix)])
    return worlds, statements


def generated(count: int, seed: int, tokenizer: WordTokenizer, per_world: int = 8) -> OracleData:
    return build(*generated_worlds(count, seed, per_world), tokenizer)


def development(data: Path, tokenizer: WordTokenizer) -> OracleData:
    worlds, statements, sets = [], [], []
    for set_dir in sorted(p for p in data.iterdir() if p.is_dir()):
        for line in (set_dir / "worlds.jsonl").read_text().splitlines():
            record = json.loads(line)
            worlds.append(world_from_json(record["world_model"]))
            statements.append([(text, float(agree)) for text, agree in zip(record["captions"], record["agreement"]) if agree in (0.0, 1.0)])
            sets.append(set_dir.name)
    return build(worlds, statements, tokenizer, sets)


def select(targets: RoleTargets, rows: torch.Tensor) -> RoleTargets:
    return RoleTargets(*(getattr(targets, name)[rows] for name in ("subject", "object", "relation", "amount", "selected", "known")))


def train(data: OracleData, tokenizer: WordTokenizer, steps: int, batch: int, auxiliary_weight: float, log) -> RelationalHead:
    torch.manual_seed(1)
    model = RelationalHead(len(tokenizer.vocabulary), SLOT_FEATURES, max_length=MAX_LENGTH)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    generator = torch.Generator().manual_seed(2)
    started = time.time()
    for step in range(1, steps + 1):
        rate = 1e-3 * min(1.0, step / 100) * 0.5 * (1 + torch.cos(torch.tensor(step / steps * torch.pi)).item())
        for group in optimizer.param_groups:
            group["lr"] = max(rate, 2e-5)
        rows = torch.randint(0, len(data.labels), (batch,), generator=generator)
        worlds = data.world[rows]
        ids = data.ids[rows]
        valid = data.valid[worlds]
        logits, clauses, _ = model(data.slots[worlds], valid, ids, (ids != tokenizer.pad_id).long())
        loss = F.binary_cross_entropy_with_logits(logits, data.labels[rows])
        auxiliary = auxiliary_loss(clauses, select(data.targets, rows), valid)
        optimizer.zero_grad()
        (loss + auxiliary_weight * auxiliary).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 250 == 0 or step == steps:
            log(f"step {step}/{steps}: loss {loss.item():.3f}, auxiliary {auxiliary.item():.3f} ({time.time() - started:.0f} s)")
    return model.eval()


@torch.no_grad()
def agreement(model: RelationalHead, data: OracleData, pad_id: int) -> dict[str, float]:
    hits: dict[str, list[int]] = {}
    for start in range(0, len(data.labels), 512):
        rows = torch.arange(start, min(start + 512, len(data.labels)))
        worlds = data.world[rows]
        ids = data.ids[rows]
        logits, _, _ = model(data.slots[worlds], data.valid[worlds], ids, (ids != pad_id).long())
        for row, logit in zip(rows.tolist(), logits.tolist()):
            hits.setdefault(data.sets[row], []).append(int((logit >= 0) == (data.labels[row] == 1)))
    return {name: sum(h) / len(h) for name, h in sorted(hits.items())}


def run(data_dir: Path, out: Path, steps: int, worlds: int, batch: int, auxiliary_weight: float, log=print) -> dict:
    tokenizer = WordTokenizer(vocabulary())
    started = time.time()
    training = generated(worlds, 4321, tokenizer)
    dev = development(data_dir, tokenizer)
    log(f"{len(training.labels)} generated statements over {worlds} worlds; {len(dev.labels)} development statements ({time.time() - started:.0f} s)")
    model = train(training, tokenizer, steps, batch, auxiliary_weight, log)
    by_set = agreement(model, dev, tokenizer.pad_id)
    result = {"steps": steps, "batch": batch, "worlds": worlds, "auxiliary_weight": auxiliary_weight,
              "seconds": round(time.time() - started), "agreement": by_set, "macro": sum(by_set.values()) / len(by_set)}
    log(f"macro {100 * result['macro']:.1f}% | " + " ".join(f"{name} {100 * value:.1f}" for name, value in by_set.items()))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    return result
