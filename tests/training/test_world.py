"""World model: conversion from the shared data, entity colours and areas, random worlds."""
from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest

from training.render import SCENE_SCALE, render
from training.world import (
    COLORS, FIXED_ASPECT, MIN_SEPARATION, SHAPES, Entity, World, sample_world, shape_area,
    world_from_json,
)

RECORD = {
    "entities": [{
        "center": {"x": 0.30, "y": 0.41},
        "color": {"name": "gray", "rgb": [0.5, 0.5, 0.5], "shade": -0.2796},
        "rotation": 0.25, "shape": {"name": "ellipse", "size": {"x": 0.1, "y": 0.04}},
        "texture": {"name": "solid"}, "id": 0,
    }],
}


def test_world_from_json_reads_every_field():
    world = world_from_json(RECORD)
    assert world == World((Entity("ellipse", "gray", -0.2796, (0.30, 0.41), (0.1, 0.04), 0.25),))


@pytest.mark.parametrize("color, shade, expected", [
    ("gray", 0.2348, (0.6174, 0.6174, 0.6174)),   # lighter: towards white
    ("gray", -0.2796, (0.3602, 0.3602, 0.3602)),  # darker: towards black
    ("yellow", -0.2, (0.8, 0.8, 0.0)),
    ("cyan", 0.5, (0.5, 1.0, 1.0)),
    ("red", 0.0, (1.0, 0.0, 0.0)),
])
def test_shade_moves_colour_towards_white_or_black(color, shade, expected):
    entity = Entity("square", color, shade, (0.5, 0.5), (0.1, 0.1), 0.0)
    assert entity.rgb == pytest.approx(expected)


@pytest.mark.parametrize("shape, size, expected", [
    ("square", (0.1, 0.1), 0.04),
    ("rectangle", (0.1, 0.05), 0.02),
    ("triangle", (0.1, 0.1 * math.sqrt(3) / 2), math.sqrt(3) / 2 * 0.02),  # base 0.2, height 0.173
    ("circle", (0.1, 0.1), math.pi * 0.01),
    ("semicircle", (0.1, 0.05), math.pi * 0.005),
    ("cross", (0.09, 0.09), 0.0180),  # two 0.18 x 0.06 bars sharing a 0.06 x 0.06 square
])
def test_shape_area_formulas(shape, size, expected):
    assert shape_area(shape, size) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("shape", SHAPES)
def test_area_matches_the_rendered_pixel_count(shape):
    """Area and renderer agree on every shape's geometry (rendered large, so that the
    antialiased edge adds little; the renderer draws everything SCENE_SCALE times smaller)."""
    rng = random.Random(3)
    for _ in range(3):
        elongated = shape in ("rectangle", "ellipse")
        aspect = rng.uniform(1 / 3, 0.5) if elongated else FIXED_ASPECT[shape]
        entity = Entity(shape, "red", 0.0, (0.5, 0.5), (0.3, 0.3 * aspect), rng.random())
        image = render(World((entity,)), size=800)
        covered = image[..., 0].astype(float).sum() / 255 / 800**2
        assert covered == pytest.approx(entity.area * SCENE_SCALE**2, rel=0.01)


def test_sample_world_is_reproducible():
    assert sample_world(random.Random(7)) == sample_world(random.Random(7))


def test_sample_world_ranges_match_the_shared_data():
    rng = random.Random(0)
    worlds = [sample_world(rng, 1, 10) for _ in range(400)]
    counts = Counter(len(w.entities) for w in worlds)
    assert min(counts) == 1 and max(counts) == 10
    entities = [e for w in worlds for e in w.entities]
    assert {e.shape for e in entities} == set(SHAPES)
    assert {e.color for e in entities} == set(COLORS)
    for e in entities:
        assert 0.05 <= e.size[0] <= 0.125
        assert -0.4 <= e.shade <= 0.4
        assert 0.0 <= e.rotation < 1.0
        assert 0.025 <= e.center[0] <= 0.975 and 0.025 <= e.center[1] <= 0.975
        ratio = e.size[1] / e.size[0]
        if e.shape in ("rectangle", "ellipse"):
            assert 1 / 3 <= ratio <= 0.5
        else:
            expected = {"triangle": 0.8660, "pentagon": 0.9511, "semicircle": 0.5}.get(e.shape, 1.0)
            assert ratio == pytest.approx(expected, abs=1e-4)
    shades = np.array([e.shade for e in entities])
    assert shades.min() < -0.35 and shades.max() > 0.35  # the whole range is used
    # the squared half-extent is uniform, as in the shared data: median half-extent 0.095
    assert np.median([e.size[0] for e in entities]) == pytest.approx(0.095, abs=0.004)


def test_sample_world_limits_overlap():
    rng = random.Random(1)
    for _ in range(200):
        es = sample_world(rng, 8, 10).entities
        for i, a in enumerate(es):
            for b in es[:i]:
                gap = math.hypot(a.center[0] - b.center[0], a.center[1] - b.center[1])
                assert gap >= MIN_SEPARATION * (max(a.size) + max(b.size))


def test_sample_world_rejects_bad_bounds():
    with pytest.raises(ValueError):
        sample_world(random.Random(0), 3, 2)
