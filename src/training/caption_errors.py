"""Why greedy captions are false, measured on the generator's own scenes: whether the published
images' rendering is the cause (then these scenes would do much better than the development
half), and of what kind the false captions are.

  PYTHONPATH=src /usr/bin/python3 -m training caption-errors --package models/shapeworld-fusion --out runs/caption-errors.json
  (--checkpoint runs/decoder-clearest/checkpoint.pt for a stage's decoder)

A false caption either relates two objects that are in the scene (only the relation is wrong:
language.generate.names_present_pair) or names a colour and shape the scene lacks, which is the
image encoder's reading.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .decoder_stage import DecoderStageConfig, stage_worlds
from .language import truth
from .language.generate import describe, names_present_pair
from .language.parser import parse
from .model import CaptionFusionModel
from .pixels import pixel_values
from .render import render
from .tokenizer import WordTokenizer

OBJECT_BANDS = ((1, 1), (2, 5), (6, 10), (11, 15))


def band_name(low: int, high: int) -> str:
    return f"{low}-{high}" if low < high else str(low)


@torch.no_grad()
def greedy_captions(model: CaptionFusionModel, tokenizer: WordTokenizer, worlds, chunk: int = 100) -> list[str]:
    captions = []
    for start in range(0, len(worlds), chunk):
        images = np.stack([render(w, size=model.config.image_size) for w in worlds[start:start + chunk]])
        ids = model.generate(pixel_values(torch.from_numpy(images)), tokenizer.cls_id, tokenizer.sep_id, model.config.n_positions)
        captions += [tokenizer.decode(row[1:]) for row in ids.tolist()]
    return captions


def measure(model: CaptionFusionModel, tokenizer: WordTokenizer, count: int, seed: int) -> dict:
    model.eval()
    worlds = stage_worlds(DecoderStageConfig(seed=seed, worlds=count))
    bands = {band_name(*band): [0, 0] for band in OBJECT_BANDS}
    kinds = {"relation of two present objects": 0, "names an object the scene lacks": 0}
    judged = true = 0
    examples = []
    for world, caption in zip(worlds, greedy_captions(model, tokenizer, worlds)):
        value = truth(world, caption)
        if value is None:
            continue
        judged += 1
        true += value
        n = len(world.entities)
        band = next(band_name(low, high) for low, high in OBJECT_BANDS if low <= n <= high)
        bands[band][0] += value
        bands[band][1] += 1
        if not value:
            kinds["relation of two present objects" if names_present_pair(parse(caption), world) else "names an object the scene lacks"] += 1
            if len(examples) < 20:
                examples.append({"caption": caption, "target": describe(world), "objects": n})
    return {"scenes": count, "seed": seed, "judged": judged, "true": true, "truth_rate": true / judged,
            "by_objects": {band: {"true": t, "judged": j} for band, (t, j) in bands.items()},
            "false_captions": kinds, "examples": examples}


def run(model: CaptionFusionModel, tokenizer: WordTokenizer, count: int, seed: int, out: Path | None) -> dict:
    results = measure(model, tokenizer, count, seed)
    print(f"greedy captions true for {results['true']}/{results['judged']} generated scenes ({100 * results['truth_rate']:.1f}%); "
          + ", ".join(f"{band} objects {r['true']}/{r['judged']}" for band, r in results["by_objects"].items()))
    print("false: " + ", ".join(f"{kind} {n}" for kind, n in results["false_captions"].items()))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results
