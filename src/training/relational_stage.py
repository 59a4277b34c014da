"""The relational stage: a relational scorer (relational_fusion.py) over a finished package's image
encoder, which stays frozen; the caption decoder is kept as it is.

The stage starts from the package that the earlier stages exported (package_weights.py), so that
it needs nothing beside the repository. Its data are generated scenes rendered once, their
encoder tokens computed once, generator statements with their role targets (what each statement
asks of each object, relational_targets.py), and per image-token cell the object whose centre it
holds. Each step trains SlotReader on those cells and the head on the statements, with the role
targets moved from the scene's objects to the slots that the reader picked.

  PYTHONPATH=src /usr/bin/python3 -m training relational-stage --package models/shapeworld-fusion \\
      --config src/training/configs/relational.json --out runs/relational
then `evaluate` and `export` with runs/relational/checkpoint.pt, as after `train`.
"""
from __future__ import annotations

import json
import time
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .checkpoint import save_checkpoint
from .data import AREA_SCALE, SHADE_SCALE, centre_cell
from .model import CaptionFusionModel
from .package_weights import load_package_model
from .pixels import pixel_values
from .relational import auxiliary_loss
from .relational_fusion import SLOTS, reader_loss
from .relational_oracle import OracleData, build, generated_worlds, select
from .relational_targets import SELECTED, RoleTargets
from .render import render
from .tokenizer import WordTokenizer
from .train import device_description
from .world import COLORS, SHAPES, World


# A stage's header in a model card's Training section (model_card.py writes them).
STAGE_HEADER = re.compile(r"^Stage \d+: (.*)\.$")


@dataclass
class StageConfig:
    seed: int = 4321  # world i of the stage uses world_seed(seed, i): not the bank's 1234
    worlds: int = 20000
    statements_per_world: int = 8
    steps: int = 4000
    batch_size: int = 128  # statements per step, each with its own image
    learning_rate: float = 1e-3
    min_learning_rate: float = 2e-5
    warmup_steps: int = 100
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    auxiliary_weight: float = 1.0  # the role targets' loss (relational.auxiliary_loss)
    reader_weight: float = 1.0  # SlotReader's loss on the cells' objects
    reader_steps: int = 300  # SlotReader alone first: the head's role targets follow the slots it picks
    slot_reader: str = "token"  # model.ModelConfig.slot_reader; "token" is package 1.3.0's reader
    centre_sigma: float = 0.0  # soft centre-flag targets, in cells (relational_fusion.centre_targets); 0: one-hot
    # Go on training the source package's scorer (a relational one with this slot reader) instead of
    # a new one: a further stage of the curriculum, on new scenes when the seed is new.
    keep_scorer: bool = False
    log_every: int = 250

    @classmethod
    def read(cls, path: Path) -> "StageConfig":
        return cls(**json.loads(path.read_text())["stage"])


def cell_objects(world: World, grid: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image-token cell (N = grid * grid): the index of the entity whose centre lies there, or
    -1 (N,), and that entity's colour and shape classes (1 + index; 0 is background), centre offset
    within the cell (-1..1), scaled area and shade (N, 6). Where two centres share a cell, the
    entity drawn later (on top) wins, as in data.object_labels."""
    entity = torch.full((grid * grid,), -1, dtype=torch.long)
    targets = torch.zeros(grid * grid, 6)
    for k, e in enumerate(world.entities[:SLOTS]):
        x, y = e.center
        row, column = centre_cell(e, grid)
        cell = row * grid + column
        entity[cell] = k
        targets[cell] = torch.tensor([1 + COLORS.index(e.color), 1 + SHAPES.index(e.shape),
                                      2 * (x * grid - column) - 1, 2 * (y * grid - row) - 1,
                                      AREA_SCALE * e.area, SHADE_SCALE * e.shade])
    return entity, targets


def model_device(model: torch.nn.Module) -> torch.device:
    """Where the model's weights are: the stages move each batch there and keep their data on the CPU."""
    return next(model.parameters()).device


@torch.no_grad()
def encoder_tokens(model: CaptionFusionModel, worlds: list[World], log, chunk: int = 200) -> torch.Tensor:
    """(W, N, D) float16 on the CPU: the frozen encoder's tokens of every rendered world (86 KB each
    in fp32), encoded on the model's device."""
    device = model_device(model)
    tokens = []
    started = time.time()
    for start in range(0, len(worlds), chunk):
        images = np.stack([render(w, size=model.config.image_size) for w in worlds[start:start + chunk]])
        tokens.append(model.encoder(pixel_values(torch.from_numpy(images).to(device))).half().cpu())
        if (start // chunk) % 20 == 0:
            log(f"encoded {start + len(images)}/{len(worlds)} scenes ({time.time() - started:.0f} s)")
    return torch.cat(tokens)


def slot_targets(targets: RoleTargets, entity: torch.Tensor) -> RoleTargets:
    """Role targets over a scene's entities (B, C, E...) moved to the slots (B, K) that hold entity
    `entity` (-1: none). A selection whose object no slot holds is not scored."""
    holds = (entity >= 0).float()  # (B, K)
    index = entity.clamp(min=0)  # (B, K)
    C = targets.subject.size(1)
    per_clause = index[:, None].expand(-1, C, -1)  # (B, C, K)
    subject = targets.subject.gather(2, per_clause) * holds[:, None]
    obj = targets.object.gather(2, per_clause) * holds[:, None]
    rows = targets.relation.gather(2, per_clause[..., None].expand(-1, -1, -1, targets.relation.size(-1)))  # (B, C, K, E)
    relation = rows.gather(3, per_clause[:, :, None].expand(-1, -1, index.size(1), -1)) * (holds[:, None, :, None] * holds[:, None, None])
    match = entity[:, None] == targets.selected[..., None]  # (B, C, K)
    known = targets.known.clone()
    known[:, :, SELECTED] &= match.any(-1)
    return RoleTargets(subject, obj, relation, targets.amount, match.float().argmax(-1), known)


# A slot's neighbouring cells, the four sides before the corners (the nearer first).
NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def slot_entities(cell_entity: torch.Tensor, cells: torch.Tensor, grid: int) -> torch.Tensor:
    """The entity that each slot (B, K) stands for, or -1: the one whose centre lies in the slot's
    cell, else one whose centre lies in a neighbouring cell that no slot holds. The reader's peak
    for an object is sometimes one cell off (its centre near a cell's edge); with only one slot per
    object left (SlotReader.peaks), that slot is the object, and its role targets should say so.
    cell_entity (B, N) as in StageData."""
    B = cell_entity.size(0)
    entity = cell_entity.gather(1, cells)  # (B, K)
    padded = F.pad(cell_entity.reshape(B, grid, grid), (1, 1, 1, 1), value=-1).reshape(B, -1)  # (B, (G + 2)^2)
    rows, columns = cells // grid + 1, cells % grid + 1  # (B, K) in the padded grid
    held = torch.zeros(B, SLOTS + 1, dtype=torch.bool, device=cell_entity.device)  # (B, 1 + E): entity e is held at e + 1; 0 is "none"
    held.scatter_(1, entity + 1, True)
    for dy, dx in NEIGHBOURS:
        neighbour = padded.gather(1, (rows + dy) * (grid + 2) + columns + dx)  # (B, K)
        free = (entity < 0) & (neighbour >= 0) & ~held.gather(1, neighbour + 1)
        entity = torch.where(free, neighbour, entity)
        held.scatter_(1, torch.where(free, neighbour + 1, torch.zeros_like(neighbour)), True)
    return entity


def learning_rate(config: StageConfig, step: int) -> float:
    """The relational oracle's schedule (warm-up times cosine, floored), with which the head was
    designed and 1.3.0's stage trained; not train.learning_rate (warm-up, then cosine from the
    warm-up's end, time-budgeted), so that the shipped stage's command reproduces it. The decoder
    stage uses it too, with a config of its own that has the same four fields."""
    warm = min(1.0, step / config.warmup_steps)
    cosine = 0.5 * (1 + np.cos(np.pi * step / config.steps))
    return max(config.learning_rate * warm * cosine, config.min_learning_rate)


@dataclass
class StageData:
    """Generated statements with their role targets (relational_oracle.OracleData), and per scene
    the object of each cell (N) and the frozen encoder's tokens (N, D)."""
    statements: OracleData
    cell_entity: torch.Tensor  # (W, N) entity index or -1
    cell_targets: torch.Tensor  # (W, N, 6) see cell_objects
    tokens: torch.Tensor  # (W, N, D) float16


def stage_data(model: CaptionFusionModel, tokenizer: WordTokenizer, config: StageConfig, log) -> StageData:
    started = time.time()
    worlds, statements = generated_worlds(config.worlds, config.seed, config.statements_per_world)
    data = build(worlds, statements, tokenizer)
    cells = [cell_objects(w, model.config.grid_size) for w in worlds]
    log(f"{len(data.labels)} statements over {len(worlds)} scenes ({time.time() - started:.0f} s)")
    return StageData(data, torch.stack([c[0] for c in cells]), torch.stack([c[1] for c in cells]), encoder_tokens(model, worlds, log))


def package_model(package: Path, fusion: str, slot_reader: str = "token", keep_scorer: bool = False) -> tuple[CaptionFusionModel, list[str]]:
    """The package's encoder and decoder with a new scorer of kind `fusion` (a relational one with
    that slot reader), or with the package's own scorer when `keep_scorer` (it must be of that kind
    and reader), in evaluation mode: the encoder's BatchNorm keeps the package's statistics, and
    nothing here uses dropout."""
    source, vocabulary = load_package_model(package)
    if keep_scorer and (source.config.fusion, source.config.slot_reader) != (fusion, slot_reader):
        raise ValueError(f"{package} has a {source.config.fusion} scorer with the {source.config.slot_reader!r} reader, "
                         f"not a {fusion} one with the {slot_reader!r} reader, so it cannot be trained on")
    model = CaptionFusionModel(replace(source.config, fusion=fusion, slot_reader=slot_reader))
    model.encoder.load_state_dict(source.encoder.state_dict())
    model.decoder.load_state_dict(source.decoder.state_dict())
    if keep_scorer:
        model.fusion.load_state_dict(source.fusion.state_dict())
    return model.eval(), vocabulary


def train_scorer(model: CaptionFusionModel, stage: StageData, config: StageConfig, pad_id: int, log) -> dict[str, float]:
    """Trains model.fusion on the stage's statements: every scorer on the labels; the relational
    one also on the role targets, and its SlotReader on the cells (first alone). Returns the mean
    matching and role-target losses of the last steps. Each step's batch is moved to the model's
    device; the sampling stays on the CPU, so a device draws the same batches."""
    torch.manual_seed(1)
    fusion, data = model.fusion, stage.statements
    device = model_device(fusion)
    relational = model.config.fusion == "relational"
    reader_steps = config.reader_steps if relational else 0
    # Slots one cell off their object stand for it only where the reader leaves one slot per object.
    peaks = relational and model.config.slot_reader == "peaks"
    optimizer = torch.optim.AdamW(fusion.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(2)
    started = time.time()
    last: list[tuple[float, float]] = []
    for step in range(1, reader_steps + config.steps + 1):
        reading_only = step <= reader_steps
        for group in optimizer.param_groups:
            group["lr"] = config.learning_rate if reading_only else learning_rate(config, step - reader_steps)
        rows = torch.randint(0, len(data.labels), (config.batch_size,), generator=generator)
        world = data.world[rows]
        image = stage.tokens[world].to(device).float()
        cell_entity, cell_targets = stage.cell_entity[world].to(device), stage.cell_targets[world].to(device)
        present = cell_entity >= 0
        ids, labels = data.ids[rows].to(device), data.labels[rows].to(device)
        match = auxiliary = torch.zeros((), device=device)
        if reading_only:
            loss = reader_loss(fusion.reader(image), cell_targets, present, model.config, config.centre_sigma)
        elif relational:
            logits, clauses, _, valid, cells, readings = fusion.read(ids, (ids != pad_id).long(), image)
            entity = slot_entities(cell_entity, cells, model.config.grid_size) if peaks else cell_entity.gather(1, cells)
            targets = slot_targets(select(data.targets, rows).to(device), entity)
            match = F.binary_cross_entropy_with_logits(logits, labels)
            auxiliary = auxiliary_loss(clauses, targets, valid.detach())
            reading = reader_loss(readings, cell_targets, present, model.config, config.centre_sigma)
            loss = match + config.auxiliary_weight * auxiliary + config.reader_weight * reading
        else:
            match = loss = F.binary_cross_entropy_with_logits(fusion(ids, (ids != pad_id).long(), image), labels)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(fusion.parameters(), config.grad_clip)
        optimizer.step()
        last = (last + [(match.item(), auxiliary.item())])[-100:]
        if step % config.log_every == 0 or step == reader_steps + config.steps:
            log(f"{model.config.fusion} step {step}/{reader_steps + config.steps}: loss {loss.item():.3f}, match {match.item():.3f}, "
                f"auxiliary {auxiliary.item():.3f} ({time.time() - started:.0f} s)")
    model.eval()
    return {"match": sum(m for m, _ in last) / len(last), "role_targets": sum(a for _, a in last) / len(last)}


def source_stages(package: Path) -> list[dict]:
    """The stages that made the source package, from its card's Training section, so that this
    stage's card lists every stage once, in order: each "Stage N: title." header starts one; a
    header with no lines under it (a stage that only wrapped the card before it) is dropped; a card
    without headers (one stage, as `train` writes) is one stage named after the package."""
    card = (package / "MODEL_CARD.md").read_text(encoding="utf-8")
    section = card.split("\n## Training\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.strip().splitlines() if line]
    if not any(STAGE_HEADER.match(line) for line in lines):
        manifest = json.loads((package / "caption_service.json").read_text())
        return [{"title": f"{manifest['name']} {manifest['version']}", "lines": lines}]
    stages: list[dict] = []
    for line in lines:
        header = STAGE_HEADER.match(line)
        if header:
            stages.append({"title": header.group(1), "lines": []})
        elif stages:
            stages[-1]["lines"].append(line)
    return [stage for stage in stages if stage["lines"]]


def source_name(package: Path) -> str:
    """"name version" of a package, as its stage's card names it."""
    manifest = json.loads((package / "caption_service.json").read_text())
    return f"{manifest['name']} {manifest['version']}"


def how_it_ran(minutes: float, seed: int, device: torch.device) -> str:
    """A stage card line's account of its run."""
    return (f"in {minutes:.0f} minutes (making its data included) on "
            f"{device_description(device, torch.get_num_threads())}, seed {seed}")


def save_stage(package: Path, out: Path, model: CaptionFusionModel, vocabulary: list[str], config, title: str,
               lines: list[str], minutes: float, log) -> None:
    """Writes the stage's checkpoint (its weights on the CPU), whose card lists the source package's
    stages, then this one."""
    training = {"stages": source_stages(package) + [{"title": title, "lines": lines}]}
    save_checkpoint(out / "checkpoint.pt", model.cpu(), vocabulary, stage=asdict(config), training=training)
    log(f"wrote {out / 'checkpoint.pt'} after {minutes:.1f} min")


def run(package: Path, config: StageConfig, out: Path, config_path: Path | None = None, command: str = "", log=print,
        device: str = "cpu") -> CaptionFusionModel:
    """Trains the stage on `device` (cpu or cuda: the long stages on a GPU, as `train --device`)."""
    started = time.time()
    device = torch.device(device)
    model, vocabulary = package_model(package, "relational", config.slot_reader, config.keep_scorer)
    model.to(device)
    tokenizer = WordTokenizer(vocabulary)
    losses = train_scorer(model, stage_data(model, tokenizer, config, log), config, tokenizer.pad_id, log)
    minutes = (time.time() - started) / 60
    source = source_name(package)
    save_stage(package, out, model, vocabulary, config,
               f"the relational scorer{', trained further,' if config.keep_scorer else ''} over the frozen image encoder of {source}", [
                   f"- {config.steps:,} steps of {config.batch_size} generated statements, each with its scene, after "
                   f"{config.reader_steps} steps of the slot reader alone, {how_it_ran(minutes, config.seed, device)}; "
                   f"{config.worlds:,} generated scenes with {config.statements_per_world} statements each "
                   "(never the published ShapeWorld example worlds).",
                   f"- The encoder and the caption decoder are {source}'s, unchanged; "
                   + (f"the scorer is {source}'s, trained further." if config.keep_scorer else "the scorer is new."),
                   f"- Stage config: `{config_path}`. Final losses: matching BCE {losses['match']:.3f}, role targets {losses['role_targets']:.3f}.",
                   f"- Command: `{command}`",
               ], minutes, log)
    return model
