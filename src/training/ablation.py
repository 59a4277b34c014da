"""The fusion ablation (issue 16): which way of fusing image and text judges ShapeWorld statements.

Four scorers over the same frozen image encoder (a package's), trained on the same generated
statements, in the same order, for the same steps (relational_stage.py, with the shipped
relational stage's config), then measured on the development half:
  concat      the founding brief's example: pooled CNN features and an LSTM's text features,
              concatenated, then an output MLP (feature-level fusion; baseline_fusion.py)
  late        the same two branches embedded separately, met only in a dot product (output level)
  attention   1.2.0's design: the text attends to the image grid in every layer (model.FusionScorer)
  relational  soft logic over the objects that a reader finds (relational_fusion.py), with the
              config's slot_reader
Every scorer learns from the labels; the relational one also from the role targets, which the
same statements and scenes give, and its reader from the scenes' objects: that supervision is
part of its design. The package's own scorer is measured beside them for reference (it was
trained with the encoder, on the multi-task bank).

  PYTHONPATH=src /usr/bin/python3 -m training ablation --package models/shapeworld-fusion \\
      --config src/training/configs/relational.json --steps 2000 --out runs/ablation.json
  (--kinds relational trains that column alone: the stage data do not depend on which scorers train.)
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import torch

from .evaluate import read_set, set_images, statement_agreement
from .model import CaptionFusionModel
from .package_weights import load_package_model
from .relational_stage import StageConfig, package_model, stage_data, train_scorer
from .tokenizer import WordTokenizer

KINDS = ("concat", "late", "attention", "relational")
REFERENCE = "package"


@torch.no_grad()
def development_agreement(model: CaptionFusionModel, tokenizer: WordTokenizer, data_dir: Path) -> dict[str, float]:
    model.eval()
    agreement = {}
    for set_dir in sorted(p for p in data_dir.iterdir() if (p / "worlds.jsonl").exists()):
        records = read_set(set_dir)
        _, image = set_images(model, set_dir, records)
        agreement[set_dir.name] = statement_agreement(model, tokenizer, records, image)["agreement"]
    return agreement


def markdown(results: dict[str, dict[str, float]]) -> str:
    kinds = list(results)
    lines = ["| set | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    for name in next(iter(results.values())):
        lines.append(f"| {name} | " + " | ".join(f"{100 * results[k][name]:.1f}%" for k in kinds) + " |")
    macro = {k: sum(v.values()) / len(v) for k, v in results.items()}
    lines.append("| **macro** | " + " | ".join(f"**{100 * macro[k]:.1f}%**" for k in kinds) + " |")
    return "\n".join(lines)


def run(package: Path, config: StageConfig, data_dir: Path, out: Path, command: str = "", kinds: tuple[str, ...] = KINDS,
        log=print) -> dict:
    started = time.time()
    reference, vocabulary = load_package_model(package)
    tokenizer = WordTokenizer(vocabulary)
    results = {}
    seconds = {}
    stage = None
    for kind in kinds:
        model, _ = package_model(package, kind, config.slot_reader if kind == "relational" else "token")
        stage = stage or stage_data(model, tokenizer, config, log)
        began = time.time()
        train_scorer(model, stage, config, tokenizer.pad_id, log)
        seconds[kind] = round(time.time() - began)
        results[kind] = development_agreement(model, tokenizer, data_dir)
        log(f"{kind}: macro {100 * sum(results[kind].values()) / len(results[kind]):.1f}% after {seconds[kind]} s of training")
    results[REFERENCE] = development_agreement(reference, tokenizer, data_dir)
    table = markdown(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": command, "package": str(package), "stage": asdict(config), "agreement": results,
                               "training_seconds": seconds, "minutes": round((time.time() - started) / 60, 1)}, indent=1) + "\n")
    out.with_suffix(".md").write_text(table + "\n")
    log(table)
    return results
