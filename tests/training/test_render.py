"""Renderer geometry, colour and order, and agreement with the published ShapeWorld PNGs."""
from __future__ import annotations

import numpy as np
import pytest

from training.calibrate import LARGE_ERROR, render_comparison
from training.render import SCENE_SCALE, render, visible_area
from training.world import Entity, World


def _one(shape="square", color="red", shade=0.0, center=(0.5, 0.5), size=(0.1, 0.1), rotation=0.0):
    return World((Entity(shape, color, shade, center, size, rotation),))


def test_image_format_and_black_background():
    image = render(World(()))
    assert image.shape == (100, 100, 3) and image.dtype == np.uint8
    assert not image.any()


def test_centred_square_covers_exactly_its_pixels():
    # Half-size 0.1 is drawn as 0.1 * 0.952 = 9.52 px about the centre, so the square spans
    # 40.48..59.52: pixel centres 41.5..58.5 are inside by more than 0.03 px (full colour),
    # 40.5 and 59.5 lie 0.02 px inside (coverage 0.99 = 252), 39.5 and 60.5 are 0.98 px out.
    image = render(_one())
    expected = np.zeros((100, 100), bool)
    expected[40:60, 40:60] = True
    assert np.array_equal(image[..., 0] > 0, expected)
    assert (image[41:59, 41:59, 0] == 255).all() and (image[..., 0] == 255).sum() == 18 * 18
    assert image[50, 40, 0] == image[50, 59, 0] == image[40, 50, 0] == 252
    assert not image[..., 1:].any()


def test_quarter_turn_makes_a_wide_rectangle_tall():
    # drawn half-extents 19.04 x 4.76 px, turned upright
    image = render(_one("rectangle", size=(0.2, 0.05), rotation=0.25))
    rows, cols = np.nonzero(image[..., 0] == 255)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (31, 68, 45, 54)


def test_triangle_points_down_and_semicircle_is_flat_on_top():
    for shape, size in (("triangle", (0.2, 0.1732)), ("semicircle", (0.2, 0.1))):
        mask = render(_one(shape, size=size))[..., 0] > 127
        widths = mask.sum(axis=1)
        top = widths[np.nonzero(widths)[0][1]]
        bottom = widths[np.nonzero(widths)[0][-2]]
        assert top > 2 * bottom, shape


def test_the_scene_is_drawn_shrunk_about_the_image_centre():
    image = render(_one("circle", center=(0.1, 0.9), size=(0.05, 0.05))).astype(float)[..., 0]
    rows, cols = np.mgrid[0:100, 0:100] + 0.5
    drawn = 0.5 + SCENE_SCALE * (np.array([0.1, 0.9]) - 0.5)   # (0.1192, 0.8808)
    assert (image * cols).sum() / image.sum() / 100 == pytest.approx(drawn[0], abs=0.002)
    assert (image * rows).sum() / image.sum() / 100 == pytest.approx(drawn[1], abs=0.002)


def test_shade_values_are_truncated_to_8_bits():
    # 0.5 * (1 - 0.2796) * 255 = 91.85, stored as 91 in the published PNGs
    image = render(_one(color="gray", shade=-0.2796))
    assert tuple(image[50, 50]) == (91, 91, 91)


def test_later_entities_are_drawn_on_top():
    red = Entity("square", "red", 0.0, (0.5, 0.5), (0.1, 0.1), 0.0)
    blue = Entity("circle", "blue", 0.0, (0.5, 0.5), (0.05, 0.05), 0.0)
    assert tuple(render(World((red, blue)))[50, 50]) == (0, 0, 255)
    assert tuple(render(World((blue, red)))[50, 50]) == (255, 0, 0)


def test_edges_are_antialiased():
    image = render(_one("circle", size=(0.2, 0.2)))
    values = np.unique(image[..., 0])
    assert len(values) > 8  # a ramp of partial coverage, not a hard 0/255 edge


def test_shapes_partly_outside_the_image_are_clipped():
    image = render(_one("square", center=(0.0, 0.0), size=(0.1, 0.1)))
    assert image[0, 0, 0] == 255 and image[20, 20, 0] == 0


def test_rendered_world_models_match_the_published_pngs(shared_examples):
    per_set, per_shape = render_comparison(shared_examples)
    overall = per_set["all"]
    assert overall.worlds == len(shared_examples)
    assert overall.abs_error / overall.worlds < 0.2        # measured 0.104 of 255
    assert overall.large_share / overall.worlds < 0.002    # pixels off by > LARGE_ERROR: 0.07%
    for shape, stats in per_shape.items():                 # one-entity worlds: near exact
        assert stats.abs_error / stats.worlds < 0.1, shape     # measured 0.009..0.047
    assert LARGE_ERROR == 32


def test_visible_area_counts_only_the_part_inside_the_image():
    inside = Entity("square", "red", 0.0, (0.5, 0.5), (0.1, 0.1), 0.0)
    assert visible_area(inside) == inside.area
    # centred on the left border of the drawn image, half of the square is cut off
    edge_x = 0.5 - 0.5 / SCENE_SCALE
    cut = Entity("square", "red", 0.0, (edge_x, 0.5), (0.1, 0.1), 0.0)
    assert visible_area(cut) == pytest.approx(cut.area / 2, rel=0.01)
