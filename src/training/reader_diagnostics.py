"""How well the relational scorer's SlotReader turns image tokens into one slot per object.

Measured on generated scenes (seeded apart from the stage's), with the frozen encoder's tokens:
  found           objects whose centre cell is a slot with valid > 0.5 (all the scene's objects,
                  so two centres in one cell cost one)
  false_adjacent  confident slots in a cell next to (3x3) an object's centre cell but holding none:
                  one object read twice
  false_elsewhere confident slots far from every object's centre
  count_exact     scenes whose number of confident slots is their number of objects
  color, shape    classes read right at the found objects' cells
  found_near      objects that a confident slot stands for as relational-stage assigns them
                  (relational_stage.slot_entities: its cell, or one cell off an object no slot holds)
  no_object       confident slots that stand for no object that way (per scene)
  crowded         objects whose centre cell touches another object's: what keeping only the
                  largest centre of each 3x3 neighbourhood would merge (SlotReader.peaks keeps
                  neighbours that read a different colour or shape)
  shared_cell     objects whose centre lies in a cell that holds another's: no cell of the token
                  grid can stand for them, so no reader of this grid finds them

  PYTHONPATH=src /usr/bin/python3 -m training reader-diagnostics --package models/shapeworld-fusion
  PYTHONPATH=src /usr/bin/python3 -m training reader-diagnostics --checkpoint runs/reader-v2/checkpoint.pt
  PYTHONPATH=src /usr/bin/python3 -m training reader-diagnostics --package models/shapeworld-fusion \\
      --train-reader src/training/configs/relational.json --worlds 4000 --reader-steps 1500
(the last trains a new reader alone over the package's encoder, as relational-stage's first steps
do, with that config's slot_reader: minutes instead of the full stage's half hour).

Measured (400 scenes, 3,297 objects):
  1.3.0's token reader              found 82.5%, next to an object 1,058, elsewhere 0, count exact
                                    26.5%, colour 97.9%, shape 94.6%; objects with a slot as the
                                    stage assigns them 89.8%, slots for no object 2.04 per scene
  its peaks at inference only       found 76.3%, next to an object 585, count exact 57.5% (a plain
                                    3x3 maximum instead: found 69.0%, count exact 39.5%)
  the peaks reader, trained with    found 77.0%, next to an object 643, elsewhere 0, count exact
  the stage (package 1.4.0, from     63.7%, colour 98.3%, shape 94.0%; objects with a slot 91.3%,
  configs/relational.json)          slots for no object 0.43 per scene

Shape letters: B scenes, N image tokens, G grid side, K slots.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch.nn import functional as F

from .model import CaptionFusionModel
from .relational_fusion import CLASSES, SLOTS, SlotReader
from .relational_oracle import generated_worlds
from .relational_stage import cell_objects, encoder_tokens, slot_entities

DIAGNOSTIC_SEED = 8765  # not the stage's 4321: scenes that no reader trained on


@dataclass
class ReaderScenes:
    tokens: torch.Tensor  # (B, N, D) the frozen encoder's tokens
    cell_entity: torch.Tensor  # (B, N) the entity whose centre lies in the cell, or -1
    cell_targets: torch.Tensor  # (B, N, 6) relational_stage.cell_objects
    objects: torch.Tensor  # (B,) entities in the scene (at most SLOTS)


def reader_scenes(model: CaptionFusionModel, count: int, seed: int = DIAGNOSTIC_SEED) -> ReaderScenes:
    worlds, _ = generated_worlds(count, seed, per_world=1)
    cells = [cell_objects(w, model.config.grid_size) for w in worlds]
    return ReaderScenes(encoder_tokens(model, worlds, log=lambda _: None).float(), torch.stack([c[0] for c in cells]),
                        torch.stack([c[1] for c in cells]), torch.tensor([min(len(w.entities), SLOTS) for w in worlds]))


def next_to(present: torch.Tensor, grid: int) -> torch.Tensor:
    """(B, N) bool: cells in the 3x3 neighbourhood of a cell marked in `present` (B, N), itself included."""
    marked = present.float().reshape(-1, 1, grid, grid)  # (B, 1, G, G)
    return F.max_pool2d(marked, 3, stride=1, padding=1).reshape(present.shape) > 0


def crowded_objects(cell_entity: torch.Tensor, grid: int) -> int:
    """Objects whose centre cell has another object's centre cell among its 8 neighbours."""
    present = cell_entity >= 0  # (B, N)
    neighbours = F.conv2d(present.float().reshape(-1, 1, grid, grid), torch.ones(1, 1, 3, 3), padding=1).reshape(present.shape) - 1
    return int((present & (neighbours > 0)).sum())


@torch.no_grad()
def reader_report(reader: SlotReader, scenes: ReaderScenes, chunk: int = 200) -> dict[str, float]:
    """The measures of the module's docstring over `scenes`, as fractions (false slots per scene)."""
    reader.eval()
    totals = dict(found=0, false_adjacent=0, false_elsewhere=0, count_exact=0, color=0, shape=0, crowded=0, found_near=0, no_object=0)
    held = int((scenes.cell_entity >= 0).sum())  # cells holding a centre: one object each
    for start in range(0, len(scenes.objects), chunk):
        part = slice(start, start + chunk)
        entity, targets = scenes.cell_entity[part], scenes.cell_targets[part]
        _, valid, cells, readings = reader.slots(scenes.tokens[part])
        confident = valid > 0.5  # (B, K)
        holds = entity.gather(1, cells) >= 0  # (B, K)
        near = next_to(entity >= 0, reader.grid).gather(1, cells)  # (B, K)
        found = confident & holds
        totals["found"] += int(found.sum())
        totals["false_adjacent"] += int((confident & ~holds & near).sum())
        totals["false_elsewhere"] += int((confident & ~holds & ~near).sum())
        totals["count_exact"] += int((confident.sum(1) == scenes.objects[part]).sum())
        picked = readings.gather(1, cells[..., None].expand(-1, -1, readings.size(-1)))[found]  # (M, R)
        truth = targets.gather(1, cells[..., None].expand(-1, -1, targets.size(-1)))[found]  # (M, 6)
        colors = picked[:, CLASSES:CLASSES + reader.colors].argmax(-1)
        shapes = picked[:, CLASSES + reader.colors:].argmax(-1)
        totals["color"] += int((colors == truth[:, 0].long()).sum())
        totals["shape"] += int((shapes == truth[:, 1].long()).sum())
        totals["crowded"] += crowded_objects(entity, reader.grid)
        stands_for = slot_entities(entity, cells, reader.grid) >= 0  # (B, K)
        totals["found_near"] += int((confident & stands_for).sum())
        totals["no_object"] += int((confident & ~stands_for).sum())
    objects, count = int(scenes.objects.sum()), len(scenes.objects)
    found = max(totals["found"], 1)
    return {
        "scenes": count, "objects": objects,
        "found": totals["found"] / objects,
        "false_adjacent_per_scene": totals["false_adjacent"] / count,
        "false_elsewhere_per_scene": totals["false_elsewhere"] / count,
        "false_adjacent": totals["false_adjacent"], "false_elsewhere": totals["false_elsewhere"],
        "count_exact": totals["count_exact"] / count,
        "color": totals["color"] / found, "shape": totals["shape"] / found,
        "crowded": totals["crowded"] / objects, "shared_cell": (objects - held) / objects,
        "found_near": totals["found_near"] / objects, "no_object_per_scene": totals["no_object"] / count,
    }


def format_report(report: dict[str, float]) -> str:
    return (f"{report['scenes']} scenes, {report['objects']} objects: found {report['found']:.1%}; false slots next to an "
            f"object {report['false_adjacent']} ({report['false_adjacent_per_scene']:.2f}/scene), elsewhere "
            f"{report['false_elsewhere']} ({report['false_elsewhere_per_scene']:.2f}/scene); count exact in "
            f"{report['count_exact']:.1%} of scenes; colour {report['color']:.1%}, shape {report['shape']:.1%} of found; "
            f"crowded (centre next to another's) {report['crowded']:.1%}, sharing another's cell {report['shared_cell']:.1%}; "
            f"as the stage assigns slots: objects with a slot {report['found_near']:.1%}, slots for no object "
            f"{report['no_object_per_scene']:.2f}/scene")


def trained_reader(package: Path, config_path: Path, worlds: int, reader_steps: int, log=print) -> CaptionFusionModel:
    """A new relational scorer over the package's encoder whose reader alone is trained for
    `reader_steps`, on `worlds` of the stage's scenes, as relational-stage's first steps do."""
    from .relational_stage import StageConfig, package_model, stage_data, train_scorer
    from .tokenizer import WordTokenizer

    config = replace(StageConfig.read(config_path), worlds=worlds, reader_steps=reader_steps, steps=0)
    model, vocabulary = package_model(package, "relational", config.slot_reader)
    tokenizer = WordTokenizer(vocabulary)
    train_scorer(model, stage_data(model, tokenizer, config, log), config, tokenizer.pad_id, log)
    return model


def run(model: CaptionFusionModel, scenes: int, out: Path | None = None, log=print) -> dict[str, float]:
    started = time.time()
    report = reader_report(model.fusion.reader, reader_scenes(model, scenes))
    log(f"slot reader ({model.config.slot_reader}): {format_report(report)} ({time.time() - started:.0f} s)")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
    return report
