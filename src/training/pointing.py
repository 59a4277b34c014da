"""The pointing game for caption explanations, on the ShapeWorld development half (issue 14).

  PYTHONPATH=src /usr/bin/python3 -m training pointing --server http://localhost:8080 --out runs/pointing.json

Every development image is captioned by a running server with `explain=true` (the maps come from
its ONNX graphs, as users get them). Each colour or shape word of the caption belongs to a noun
phrase ("a red square", "a shape", and "a square is red"); the phrase names the scene's objects
that fit it (colour and shape as far as the phrase gives them), and the world model gives their
bounding boxes. The word is a hit when its map's peak cell lies on one of those boxes: the cell's
rectangle overlaps the box (`hit`, the headline figure: a cell of the 13 x 13 grid is 7.7 pixels,
wider than many objects) or its centre lies inside the box (`hit_strict`). Words whose phrase
fits no object (a false caption) are not judged. `chance` is the share of the image that those
boxes cover, what a peak dropped at random would score.
"""

from __future__ import annotations

import json
from pathlib import Path

import math
import random

import numpy as np
from PIL import Image

from .render import render, signed_distance
from .trust import SIZE, post_caption
from .world import COLORS, SHAPES, Entity, sample_world

PREDICATES = ("is", "are")


def noun_phrases(words: list[str]) -> list[dict]:
    """Phrases as {"color", "shape", "indices"}: a colour and/or shape (or "shape") after a
    determiner, with a following "is COLOUR" / "is a SHAPE" predicate folded in."""
    phrases: list[dict] = []
    i = 0
    while i < len(words):
        if words[i] in COLORS or words[i] in SHAPES or words[i] == "shape":
            phrase = {"color": None, "shape": None, "indices": []}
            while i < len(words) and (words[i] in COLORS or words[i] in SHAPES or words[i] == "shape"):
                if words[i] in COLORS:
                    phrase["color"] = words[i]
                elif words[i] in SHAPES:
                    phrase["shape"] = words[i]
                phrase["indices"].append(i)
                i += 1
            # "a square is red ." / "a shape is a square .": the predicate describes the same object.
            if i + 1 < len(words) and words[i] in PREDICATES:
                j = i + 1 + (words[i + 1] == "a")
                if j < len(words) and (words[j] in COLORS or words[j] in SHAPES) and j + 1 < len(words) and words[j + 1] == ".":
                    phrase["color" if words[j] in COLORS else "shape"] = words[j]
                    phrase["indices"].append(j)
                    i = j + 1
            phrases.append(phrase)
        else:
            i += 1
    return phrases


def boxes_of(world_model: dict, color: str | None, shape: str | None) -> list[tuple[float, float, float, float]]:
    """(left, top, right, bottom) in 0..1 of every entity that fits, clipped to the image."""
    boxes = []
    for entity in world_model["entities"]:
        if color is not None and entity["color"]["name"] != color:
            continue
        if shape is not None and entity["shape"]["name"] != shape:
            continue
        box = entity["bounding_box"]
        boxes.append((max(0.0, box["topleft"]["x"]), max(0.0, box["topleft"]["y"]),
                      min(1.0, box["bottomright"]["x"]), min(1.0, box["bottomright"]["y"])))
    return boxes


_BOX_GRID = 96  # samples per side of the square around an entity that its bounding box is read from


def bounding_box(entity: Entity) -> dict:
    """The rotated shape's extent in world coordinates, as the shared data's `bounding_box`
    (unclipped: `boxes_of` clips it to the image, as for the development scenes)."""
    sx, sy = entity.size
    reach = math.hypot(sx, sy)
    offsets = ((np.arange(_BOX_GRID) + 0.5) / _BOX_GRID * 2.0 - 1.0) * reach
    dx, dy = offsets[None, :], offsets[:, None]  # (1, n), (n, 1)
    angle = 2.0 * math.pi * entity.rotation
    cos, sin = math.cos(angle), math.sin(angle)
    inside = signed_distance(entity.shape, cos * dx + sin * dy, cos * dy - sin * dx, sx, sy) < 0.0  # (n, n)
    rows, columns = np.nonzero(inside)
    half_cell = reach / _BOX_GRID  # a sample stands for a cell this far to either side
    cx, cy = entity.center
    return {"topleft": {"x": cx + float(offsets[columns.min()]) - half_cell, "y": cy + float(offsets[rows.min()]) - half_cell},
            "bottomright": {"x": cx + float(offsets[columns.max()]) + half_cell, "y": cy + float(offsets[rows.max()]) + half_cell}}


def generated_scenes(count: int, seed: int, out: Path) -> Path:
    """Training-like scenes (1 to 15 shapes, as the default config's bank) from the project's own
    generator, as PNGs with a `worlds.jsonl` in the development sets' layout (each entity's
    shape, colour and bounding box), so that `measure` judges them as it judges those sets.
    Rules for explanations are chosen on these, never on the development scenes."""
    folder = out / "generated"
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        n = rng.randint(1, 15)
        world = sample_world(rng, min_entities=n, max_entities=n)
        image = f"scene-{i:05d}.png"
        Image.fromarray(render(world, size=SIZE)).save(folder / image)
        entities = [{"id": k, "shape": {"name": e.shape}, "color": {"name": e.color}, "bounding_box": bounding_box(e)}
                    for k, e in enumerate(world.entities)]
        lines.append(json.dumps({"world": i, "image": image, "world_model": {"entities": entities}}))
    (folder / "worlds.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def peak(heat_map: dict) -> tuple[int, int]:
    values = heat_map["values"]
    best = max(range(len(values)), key=lambda i: values[i])
    return best % heat_map["width"], best // heat_map["width"]


def judge(heat_map: dict, boxes: list[tuple[float, float, float, float]]) -> dict:
    x, y = peak(heat_map)
    w, h = heat_map["width"], heat_map["height"]
    cell = (x / w, y / h, (x + 1) / w, (y + 1) / h)
    cx, cy = (x + 0.5) / w, (y + 0.5) / h
    overlaps = any(cell[0] < b[2] and b[0] < cell[2] and cell[1] < b[3] and b[1] < cell[3] for b in boxes)
    inside = any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in boxes)
    covered = min(1.0, sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes))
    return {"peak": [x, y], "hit": overlaps, "hit_strict": inside, "chance": covered}


def score_words(caption_answer: dict, world_model: dict) -> list[dict]:
    words = [entry["word"] for entry in caption_answer["explanation"]]
    rows = []
    for phrase in noun_phrases(words):
        boxes = boxes_of(world_model, phrase["color"], phrase["shape"])
        for index in phrase["indices"]:
            word = words[index]
            kind = "color" if word in COLORS else "shape"
            row = {"word": word, "type": kind, "phrase": [words[i] for i in phrase["indices"]], "objects": len(boxes)}
            if boxes:
                row.update(judge(caption_answer["explanation"][index]["map"], boxes))
            rows.append(row)
    return rows


def summarise(rows: list[dict]) -> dict:
    summary = {}
    for kind in ("color", "shape"):
        judged = [r for r in rows if r["type"] == kind and "hit" in r]
        summary[kind] = {
            "words": sum(r["type"] == kind for r in rows),
            "judged": len(judged),
            "hit_rate": sum(r["hit"] for r in judged) / max(len(judged), 1),
            "hit_rate_strict": sum(r["hit_strict"] for r in judged) / max(len(judged), 1),
            "chance": sum(r["chance"] for r in judged) / max(len(judged), 1),
        }
    return summary


def measure(server: str, data_dir: Path, out: Path, log=print) -> dict:
    images, rows = [], []
    for set_dir in sorted(p for p in data_dir.iterdir() if (p / "worlds.jsonl").is_file()):
        for line in (set_dir / "worlds.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            answer = post_caption(server, (set_dir / record["image"]).read_bytes(), "?explain=true")
            words = score_words(answer, record["world_model"])
            images.append({"image": f"{set_dir.name}/{record['image']}", "caption": answer["caption"], "words": words})
            rows.extend(words)
        log(f"{set_dir.name}: {len(images)} images so far")
    results = {
        "server": server, "data": str(data_dir), "images": len(images),
        "combination": "at the step that chose the word, the mean over the heads the package names (decoder.cross_attention_heads), else over every head of every layer",
        "by_type": summarise(rows),
        "images_detail": images,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    log(json.dumps(results["by_type"], indent=2))
    return results
