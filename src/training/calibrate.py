"""Measure the scene generator against the shared ShapeWorld examples.

    /usr/bin/python3 -m training.calibrate [--data DIR]

Prints (1) the render comparison: each shared world model rendered with training.render and
compared with its published PNG (mean absolute error per channel value, share of pixels with a
channel off by more than 32), per set and, for one-entity worlds, per shape; and (2) the
agreement of training.language.truth with the published labels, per set and per form.
"""
from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from training.language import caption_form, truth
from training.render import render
from training.world import World, world_from_json

# The repository's own copy of the development half; SHAPEWORLD_DATA may name a larger copy.
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "shapeworld"
LARGE_ERROR = 32


@dataclass(frozen=True)
class Example:
    set_name: str
    index: int
    world: World
    image: np.ndarray                      # (100, 100, 3) uint8, the published PNG
    captions: tuple[tuple[str, bool], ...]  # (caption, published agreement)


def data_dir() -> Path:
    """The ShapeWorld sets: $SHAPEWORLD_DATA when set, else the repository's copy."""
    root = Path(os.environ.get("SHAPEWORLD_DATA", DEFAULT_DATA))
    if not root.is_dir():
        raise FileNotFoundError(f"no ShapeWorld data at {root} (SHAPEWORLD_DATA names a copy; the repository's is tests/data/shapeworld)")
    return root


def load_examples(root: Path | None = None, with_images: bool = True) -> list[Example]:
    """Every world of every shared set, in set and file order."""
    root = root or data_dir()
    examples = []
    for set_dir in sorted(p for p in root.iterdir() if (p / "worlds.jsonl").is_file()):
        with open(set_dir / "worlds.jsonl", encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                image = (np.asarray(Image.open(set_dir / record["image"]).convert("RGB"))
                         if with_images else np.zeros((0, 0, 3), np.uint8))
                captions = tuple((caption, label == 1.0) for caption, label
                                 in zip(record["captions"], record["agreement"]))
                examples.append(Example(set_dir.name, record["world"],
                                        world_from_json(record["world_model"]), image, captions))
    return examples


@dataclass
class RenderStats:
    worlds: int = 0
    abs_error: float = 0.0      # sum over worlds of the mean absolute error
    large_share: float = 0.0    # sum over worlds of the share of pixels off by > LARGE_ERROR

    def add(self, rendered: np.ndarray, published: np.ndarray) -> None:
        diff = np.abs(rendered.astype(np.int16) - published.astype(np.int16))
        self.worlds += 1
        self.abs_error += float(diff.mean())
        self.large_share += float((diff.max(axis=2) > LARGE_ERROR).mean())

    def row(self, name: str) -> str:
        n = max(self.worlds, 1)
        mean_error, large = self.abs_error / n, 100 * self.large_share / n
        return f"{name:30s} {self.worlds:6d} {mean_error:8.3f} {large:9.2f}%"


def render_comparison(
        examples: list[Example]) -> tuple[dict[str, RenderStats], dict[str, RenderStats]]:
    """Per set, and per shape over the one-entity worlds, plus an 'all' entry in the first."""
    per_set: dict[str, RenderStats] = defaultdict(RenderStats)
    per_shape: dict[str, RenderStats] = defaultdict(RenderStats)
    for ex in examples:
        rendered = render(ex.world)
        per_set[ex.set_name].add(rendered, ex.image)
        per_set["all"].add(rendered, ex.image)
        if len(ex.world.entities) == 1:
            per_shape[ex.world.entities[0].shape].add(rendered, ex.image)
    return per_set, per_shape


def agreement(examples: list[Example]) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """[agreeing, supported, total] per set and per form."""
    per_set: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    per_form: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for ex in examples:
        for caption, label in ex.captions:
            value = truth(ex.world, caption)
            form = caption_form(caption) or "unsupported"
            for counts in (per_set[ex.set_name], per_form[form]):
                counts[2] += 1
                if value is not None:
                    counts[1] += 1
                    counts[0] += value == label
    return per_set, per_form


def _agreement_rows(table: dict[str, list[int]]) -> list[str]:
    rows = []
    for name, (agree, supported, total) in sorted(table.items()):
        share = f"{100 * agree / supported:7.2f}%" if supported else "      -"
        rows.append(f"{name:30s} {supported:5d}/{total:<5d} {share}")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="ShapeWorld sets folder (default: $SHAPEWORLD_DATA, else tests/data/shapeworld)")
    args = parser.parse_args(argv)
    examples = load_examples(args.data)

    per_set, per_shape = render_comparison(examples)
    print("Render comparison (rendered world model vs published PNG)")
    print(f"{'set':30s} {'worlds':>6s} {'mean|d|':>8s} {'>32 px':>10s}")
    for name in sorted(k for k in per_set if k != "all"):
        print(per_set[name].row(name))
    print(per_set["all"].row("all"))
    print(f"\n{'one-entity worlds, by shape':30s} {'worlds':>6s} {'mean|d|':>8s} {'>32 px':>10s}")
    for name in sorted(per_shape):
        print(per_shape[name].row(name))

    set_table, form_table = agreement(examples)
    print("\nAgreement with published labels (supported/total captions, agreement on supported)")
    print("\n".join(_agreement_rows(set_table)))
    print("\nper form")
    print("\n".join(_agreement_rows(form_table)))


if __name__ == "__main__":
    main()
