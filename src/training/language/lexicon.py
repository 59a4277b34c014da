"""Words of the ShapeWorld caption language and how they map to meanings."""
from __future__ import annotations

from fractions import Fraction

from training.world import COLORS, SHAPES

PLURALS: dict[str, str] = {
    "square": "squares", "rectangle": "rectangles", "triangle": "triangles",
    "pentagon": "pentagons", "cross": "crosses", "circle": "circles",
    "semicircle": "semicircles", "ellipse": "ellipses", "shape": "shapes",
}
SINGULARS: dict[str, str] = {plural: singular for singular, plural in PLURALS.items()}

NUMBERS: tuple[str, ...] = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
)

# "a third of the", "two thirds of the", "a quarter of the", "three quarters of the"
FRACTION_NOUNS: dict[str, int] = {"third": 3, "thirds": 3, "quarter": 4, "quarters": 4}

# Count and ratio comparisons, as they are written before the number.
COMPARISONS: tuple[str, ...] = ("exactly", "more than", "less than", "at least", "at most", "not")

# Binary relations between two entities, as written after "is" (optionally "is not").
SPATIAL_RELATIONS: dict[str, str] = {
    "to the left of": "left", "to the right of": "right", "above": "above", "below": "below",
}
DEPTH_RELATIONS: dict[str, str] = {"behind": "behind", "in front of": "in-front"}
ATTRIBUTE_RELATIONS: dict[str, str] = {
    "the same shape as": "same-shape", "a different shape from": "different-shape",
    "the same color as": "same-color", "a different color from": "different-color",
}
COMPARATIVE_RELATIONS: dict[str, str] = {
    "bigger than": "bigger", "smaller than": "smaller",
    "lighter than": "lighter", "darker than": "darker",
}
# "x is closer to y than the z"
DISTANCE_RELATIONS: dict[str, str] = {"closer to": "closer", "farther from": "farther"}

# "the leftmost red shape is ...": selector word → (attribute, direction, superlative?)
SELECTORS: dict[str, tuple[str, str, bool]] = {
    "left": ("x", "min", False), "right": ("x", "max", False),
    "upper": ("y", "min", False), "lower": ("y", "max", False),
    "leftmost": ("x", "min", True), "rightmost": ("x", "max", True),
    "uppermost": ("y", "min", True), "lowermost": ("y", "max", True),
    "smaller": ("area", "min", False), "bigger": ("area", "max", False),
    "smallest": ("area", "min", True), "biggest": ("area", "max", True),
    "darker": ("shade", "min", False), "lighter": ("shade", "max", False),
    "darkest": ("shade", "min", True), "lightest": ("shade", "max", True),
}


def article(word: str) -> str:
    """'a' or 'an' before `word`, as the shared data writes it ("an ellipse")."""
    return "an" if word[0] in "aeiou" else "a"


def ratio_words(value: Fraction) -> str:
    """Words for a ratio quantity: 'half the', 'a third of the', 'two quarters of the', 'all'."""
    if value == 1:
        return "all"
    if value == Fraction(1, 2):
        return "half the"
    noun = {3: "third", 4: "quarter"}[value.denominator]
    if value.numerator == 1:
        return f"a {noun} of the"
    return f"{NUMBERS[value.numerator]} {noun}s of the"


__all__ = [
    "COLORS", "SHAPES", "PLURALS", "SINGULARS", "NUMBERS", "FRACTION_NOUNS", "COMPARISONS",
    "SPATIAL_RELATIONS", "DEPTH_RELATIONS", "ATTRIBUTE_RELATIONS", "COMPARATIVE_RELATIONS",
    "DISTANCE_RELATIONS", "SELECTORS", "article", "ratio_words",
]
