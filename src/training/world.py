"""ShapeWorld-style scenes: entities with shape, colour, shade, position, size and rotation.

All geometry is in image-relative units (0..1, y grows downward), as in the shared data's
`world_model` objects. Distributions in `sample_world` were read off the 17 shared sets:
half-extents 0.05..0.125 with the square of the half-extent (so the area) uniform, elongated
shapes with aspect 1/3..1/2, shade offsets -0.4..0.4, rotation a fraction of a full turn,
centres uniform in 0.025..0.975, overlap limited.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

SHAPES: tuple[str, ...] = (
    "square", "rectangle", "triangle", "pentagon", "cross", "circle", "semicircle", "ellipse",
)
COLORS: tuple[str, ...] = ("red", "green", "blue", "yellow", "magenta", "cyan", "gray")

# Base RGB of each colour (0..1) before the shade offset is applied.
COLOR_RGB: dict[str, tuple[float, float, float]] = {
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
    "magenta": (1.0, 0.0, 1.0),
    "cyan": (0.0, 1.0, 1.0),
    "gray": (0.5, 0.5, 0.5),
}

# Height/width ratio of the shapes whose proportions are fixed (size.y = ratio * size.x):
# a triangle is equilateral, a pentagon regular, a semicircle half a disc.
FIXED_ASPECT: dict[str, float] = {
    "square": 1.0,
    "cross": 1.0,
    "circle": 1.0,
    "triangle": math.sqrt(3.0) / 2.0,
    "pentagon": (1.0 + math.cos(math.radians(36))) / (2.0 * math.sin(math.radians(72))),
    "semicircle": 0.5,
}
# Rectangles and ellipses get a random aspect in this range.
ELONGATED_ASPECT = (1.0 / 3.0, 0.5)
# Half-extent along x (shape.size.x) of every shape in the shared data lies in this range; its
# square is uniform (shared data quartiles 0.078 / 0.095 / 0.111, against 0.076 / 0.095 / 0.111).
SIZE_RANGE = (0.05, 0.125)
# Centres keep this distance from the image border (shared data: 5% of the entities lie
# within 0.43 half-extents of the border, which this margin reproduces).
CENTER_MARGIN = 0.025
SHADE_RANGE = (-0.4, 0.4)
# Centres closer than this fraction of the sum of the two shapes' largest half-extents are
# rejected. With it, the distribution of that ratio over all pairs matches the shared data's
# (percentiles 1/5/25/50: 0.51/0.81/1.74/2.68 here, 0.52/0.78/1.67/2.60 there).
MIN_SEPARATION = 0.4
_PLACEMENT_ATTEMPTS = 100


@dataclass(frozen=True)
class Entity:
    shape: str                    # one of SHAPES
    color: str                    # one of COLORS
    shade: float                  # shade offset, -0.4..0.4: > 0 towards white, < 0 towards black
    center: tuple[float, float]   # (x, y) in 0..1, y grows downward
    size: tuple[float, float]     # half-extents (x, y) of the unrotated shape
    rotation: float               # fraction of a full clockwise turn (on screen), 0..1

    @property
    def rgb(self) -> tuple[float, float, float]:
        """The shaded colour (0..1 per channel): the base colour moved towards white or black."""
        s = self.shade
        r, g, b = (c + s * (1.0 - c) if s > 0 else c * (1.0 + s) for c in COLOR_RGB[self.color])
        return r, g, b

    @property
    def area(self) -> float:
        """Area of the shape in relative units (the whole image is 1)."""
        return shape_area(self.shape, self.size)


@dataclass(frozen=True)
class World:
    entities: tuple[Entity, ...]  # in drawing order (later ones are drawn on top)


def shape_area(shape: str, size: tuple[float, float]) -> float:
    sx, sy = size
    if shape in ("square", "rectangle"):
        return 4.0 * sx * sy
    if shape == "triangle":
        return 2.0 * sx * sy
    if shape == "pentagon":
        radius = sx / math.sin(math.radians(72))
        return 2.5 * radius * radius * math.sin(math.radians(72))
    if shape == "cross":
        # two bars 2sx long and a third of that wide, sharing their central square
        arm = 2.0 * sx / 3.0
        return 2.0 * (2.0 * sx) * arm - arm * arm
    if shape in ("circle", "ellipse"):
        return math.pi * sx * sy
    if shape == "semicircle":
        return math.pi * sx * sx / 2.0
    raise ValueError(f"unknown shape {shape!r}")


def world_from_json(world_model: dict) -> World:
    """Convert a shared-data `world_model` object into a World."""
    entities = []
    for e in world_model["entities"]:
        entities.append(Entity(
            shape=e["shape"]["name"],
            color=e["color"]["name"],
            shade=float(e["color"]["shade"]),
            center=(float(e["center"]["x"]), float(e["center"]["y"])),
            size=(float(e["shape"]["size"]["x"]), float(e["shape"]["size"]["y"])),
            rotation=float(e["rotation"]),
        ))
    return World(entities=tuple(entities))


def sample_entity(rng: random.Random) -> Entity:
    """One random entity, placed anywhere in the image but for a thin border."""
    shape = rng.choice(SHAPES)
    sx = math.sqrt(rng.uniform(SIZE_RANGE[0] ** 2, SIZE_RANGE[1] ** 2))
    aspect = FIXED_ASPECT.get(shape)
    if aspect is None:
        aspect = rng.uniform(*ELONGATED_ASPECT)
    return Entity(
        shape=shape,
        color=rng.choice(COLORS),
        shade=rng.uniform(*SHADE_RANGE),
        center=(rng.uniform(CENTER_MARGIN, 1.0 - CENTER_MARGIN),
                rng.uniform(CENTER_MARGIN, 1.0 - CENTER_MARGIN)),
        size=(sx, sx * aspect),
        rotation=rng.random(),
    )


def _too_close(a: Entity, b: Entity) -> bool:
    distance = math.hypot(a.center[0] - b.center[0], a.center[1] - b.center[1])
    return distance < MIN_SEPARATION * (max(a.size) + max(b.size))


def sample_world(rng: random.Random, min_entities: int = 1, max_entities: int = 10) -> World:
    """A random world with a uniformly drawn number of entities and limited overlap.

    An entity that cannot be placed after a number of attempts is dropped, unless that would
    leave fewer than `min_entities`, in which case the world is drawn again.
    """
    if not 1 <= min_entities <= max_entities:
        raise ValueError("need 1 <= min_entities <= max_entities")
    while True:
        target = rng.randint(min_entities, max_entities)
        placed: list[Entity] = []
        for _ in range(target):
            for _ in range(_PLACEMENT_ATTEMPTS):
                candidate = sample_entity(rng)
                if not any(_too_close(candidate, other) for other in placed):
                    placed.append(candidate)
                    break
        if len(placed) >= min_entities:
            return World(entities=tuple(placed))
