"""Rasterise a World into a ShapeWorld-like RGB image.

Each shape is described by a signed distance function in its own unrotated frame; a pixel's
coverage falls linearly from 1 to 0 as its centre's distance outside the outline grows from
about 0 to 1 pixel (COVERAGE_BIAS minus the signed distance, clipped to 0..1), the one-pixel
antialiasing ramp seen in the published images. Shapes are alpha-composited in drawing order
over a black background and the result truncated to 8 bits (the shared PNGs show a shaded
channel value of 0.3602 stored as 91, not 92).

Conventions recovered from the shared PNGs (see training.calibrate): `size` holds half-extents;
`rotation` turns the shape clockwise on screen by that fraction of a full turn; at rotation 0 a
triangle and a pentagon point down and a semicircle's flat side faces up; a cross's bars are a
third of its extent wide; `center` is the centre of the unrotated bounding box. The whole
scene is drawn shrunk by SCENE_SCALE about the image centre (x_drawn = 0.5 + 0.952 (x - 0.5),
sizes times 0.952): fitted on the 850 shared worlds, this cuts the mean pixel error from 4.8
to about 0.10 (of 255).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from training.world import Entity, World

# Drawn centre = 0.5 + SCENE_SCALE * (centre - 0.5), drawn size = SCENE_SCALE * size.
SCENE_SCALE = 0.952
# Coverage = clip(COVERAGE_BIAS - signed distance in pixels, 0, 1).
COVERAGE_BIAS = 0.97
_SIN72 = math.sin(math.radians(72))
_COS36 = math.cos(math.radians(36))


def _box_distance(u: np.ndarray, v: np.ndarray, hx: float, hy: float) -> np.ndarray:
    qx = np.abs(u) - hx
    qy = np.abs(v) - hy
    outside = np.hypot(np.maximum(qx, 0.0), np.maximum(qy, 0.0))
    return outside + np.minimum(np.maximum(qx, qy), 0.0)


def _convex_polygon_distance(u: np.ndarray, v: np.ndarray,
                             vertices: list[tuple[float, float]]) -> np.ndarray:
    """Exact signed distance to a convex polygon whose vertices go clockwise on screen (y down):
    inside, the largest (negative) distance to an edge line; outside, the distance to the
    nearest edge segment, so that corners get the rounded ramp the published images show."""
    to_lines = None
    to_segments = None
    for (x0, y0), (x1, y1) in zip(vertices, vertices[1:] + vertices[:1]):
        ex, ey = x1 - x0, y1 - y0
        length2 = ex * ex + ey * ey
        t = np.minimum(np.maximum(((u - x0) * ex + (v - y0) * ey) / length2, 0.0), 1.0)
        segment = np.hypot(u - x0 - t * ex, v - y0 - t * ey)
        length = math.sqrt(length2)
        line = ((u - x0) * ey - (v - y0) * ex) / length  # along the outward normal
        to_lines = line if to_lines is None else np.maximum(to_lines, line)
        to_segments = segment if to_segments is None else np.minimum(to_segments, segment)
    assert to_lines is not None and to_segments is not None
    return np.where(to_lines > 0.0, to_segments, to_lines)


def _ellipse_distance(u: np.ndarray, v: np.ndarray, a: float, b: float) -> np.ndarray:
    """Signed distance to the ellipse with semi-axes a, b: the nearest outline point found by
    Newton steps on its angle parameter (four steps are exact to well under a pixel)."""
    pu, pv = np.abs(u), np.abs(v)  # by symmetry, work in the first quadrant
    t = np.arctan2(a * pv, b * pu)
    for _ in range(4):
        cos, sin = np.cos(t), np.sin(t)
        rx, ry = a * cos - pu, b * sin - pv  # outline point minus query point
        tx, ty = -a * sin, b * cos            # tangent
        slope = tx * tx + ty * ty - rx * a * cos - ry * b * sin
        t = t - (rx * tx + ry * ty) / np.maximum(slope, 1e-12)
        t = np.minimum(np.maximum(t, 0.0), math.pi / 2)
    distance = np.hypot(a * np.cos(t) - pu, b * np.sin(t) - pv)
    inside = (pu / a) ** 2 + (pv / b) ** 2 < 1.0
    return np.where(inside, -distance, distance)


def _triangle_vertices(sx: float, sy: float) -> list[tuple[float, float]]:
    return [(-sx, -sy), (sx, -sy), (0.0, sy)]  # apex down


def _pentagon_vertices(sx: float) -> list[tuple[float, float]]:
    radius = sx / _SIN72
    # The circumcentre sits above the bounding-box centre by half the difference between the
    # apex distance (radius) and the flat side's distance (radius * cos 36).
    shift = radius * (1.0 - _COS36) / 2.0
    angles = [math.pi / 2 + 2 * math.pi * k / 5 for k in range(5)]  # apex down
    return [(radius * math.cos(a), radius * math.sin(a) - shift) for a in angles]


def signed_distance(shape: str, u: np.ndarray, v: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Signed distance (negative inside) from points (u, v) in the shape's frame to its outline."""
    if shape in ("square", "rectangle"):
        return _box_distance(u, v, sx, sy)
    if shape == "cross":
        half_bar = sx / 3.0
        return np.minimum(_box_distance(u, v, sx, half_bar), _box_distance(u, v, half_bar, sy))
    if shape == "circle":
        return np.hypot(u, v) - sx
    if shape == "ellipse":
        return _ellipse_distance(u, v, sx, sy)
    if shape == "semicircle":
        # half of a disc of radius sx centred on the flat side, which lies at v = -sy
        dv = v + sy
        return np.maximum(np.hypot(u, dv) - sx, -dv)
    if shape == "triangle":
        return _convex_polygon_distance(u, v, _triangle_vertices(sx, sy))
    if shape == "pentagon":
        return _convex_polygon_distance(u, v, _pentagon_vertices(sx))
    raise ValueError(f"unknown shape {shape!r}")


# The part of world coordinates that the image shows: 0..1 drawn shrunk by SCENE_SCALE.
_VISIBLE_LOW = 0.5 - 0.5 / SCENE_SCALE
_VISIBLE_HIGH = 0.5 + 0.5 / SCENE_SCALE
_VISIBLE_GRID = 48  # samples per side when an entity crosses the image border


@functools.lru_cache(maxsize=65536)
def visible_area(entity: Entity) -> float:
    """The entity's area (as Entity.area) times the share of it that lies inside the image.

    Size comparisons use it: a shape cut by the border looks smaller, and the shared labels
    agree ("the smallest gray shape is a cross" for a cross half outside the image)."""
    sx, sy = entity.size
    reach = math.hypot(sx, sy)
    cx, cy = entity.center
    if (cx - reach >= _VISIBLE_LOW and cx + reach <= _VISIBLE_HIGH
            and cy - reach >= _VISIBLE_LOW and cy + reach <= _VISIBLE_HIGH):
        return entity.area
    offsets = ((np.arange(_VISIBLE_GRID) + 0.5) / _VISIBLE_GRID * 2.0 - 1.0) * reach
    dx, dy = offsets[None, :], offsets[:, None]  # (1, n), (n, 1)
    angle = 2.0 * math.pi * entity.rotation
    cos, sin = math.cos(angle), math.sin(angle)
    inside = signed_distance(entity.shape, cos * dx + sin * dy, cos * dy - sin * dx, sx, sy) < 0.0
    x, y = cx + dx, cy + dy
    shown = (inside & (x >= _VISIBLE_LOW) & (x <= _VISIBLE_HIGH)
             & (y >= _VISIBLE_LOW) & (y <= _VISIBLE_HIGH))
    return entity.area * float(shown.sum()) / max(int(inside.sum()), 1)


def _draw(canvas: np.ndarray, entity: Entity) -> None:
    size = canvas.shape[0]
    sx, sy = SCENE_SCALE * entity.size[0], SCENE_SCALE * entity.size[1]
    center_x = 0.5 + SCENE_SCALE * (entity.center[0] - 0.5)
    center_y = 0.5 + SCENE_SCALE * (entity.center[1] - 0.5)
    cx, cy = center_x * size, center_y * size
    reach = math.hypot(sx, sy) * size + 1.0  # covers the rotated shape plus the ramp
    x0, x1 = max(int(cx - reach), 0), min(int(cx + reach) + 1, size)
    y0, y1 = max(int(cy - reach), 0), min(int(cy + reach) + 1, size)
    if x0 >= x1 or y0 >= y1:
        return
    # pixel centres relative to the shape centre, in image-relative units: a row and a column
    # that broadcast to the (h, w) window
    dx = ((np.arange(x0, x1) + 0.5) / size - center_x)[None, :]  # (1, w)
    dy = ((np.arange(y0, y1) + 0.5) / size - center_y)[:, None]  # (h, 1)
    angle = 2.0 * math.pi * entity.rotation
    cos, sin = math.cos(angle), math.sin(angle)
    u = cos * dx + sin * dy  # (h, w)
    v = cos * dy - sin * dx  # (h, w)
    distance = signed_distance(entity.shape, u, v, sx, sy)
    coverage = np.minimum(np.maximum(COVERAGE_BIAS - distance * size, 0.0), 1.0)  # (h, w)
    coverage = coverage[..., None]  # (h, w, 1)
    region = canvas[y0:y1, x0:x1]
    region += coverage * (np.asarray(entity.rgb) - region)


def render_float(world: World, size: int = 100) -> np.ndarray:
    """(size, size, 3) float image in 0..1."""
    canvas = np.zeros((size, size, 3), dtype=np.float64)
    for entity in world.entities:
        _draw(canvas, entity)
    return canvas


def render(world: World, size: int = 100) -> np.ndarray:
    """(size, size, 3) uint8 RGB image, black background, entities drawn in order."""
    canvas = render_float(world, size)
    # truncation (astype) as in the published PNGs; the small epsilon keeps exact channel
    # values such as 1.0 * 255 from rounding down to 254
    return (canvas * 255.0 + 1e-6).astype(np.uint8)
