"""The token vocabulary shared by the model, the exported tokenizer and the C# server.

Token ids are positions in vocabulary(): the five special tokens first (ids 0..4, as the model
package contract requires), then every word of the caption language in sorted order. The word
list is written out rather than derived, so that ids never shift when the generator changes;
a test checks that it covers every word the generator can produce and every word of the
shared captions.
"""
from __future__ import annotations

SPECIAL_TOKENS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

WORDS: tuple[str, ...] = (
    ".", "a", "above", "all", "an", "and", "are", "as", "at", "behind", "below", "bigger",
    "biggest", "blue", "circle", "circles", "closer", "closest", "color", "cross", "crosses",
    "cyan", "darker", "darkest", "different", "eight", "either", "ellipse", "ellipses", "exactly",
    "farther", "farthest", "five", "four", "from", "front", "gray", "green", "half", "if", "in",
    "is", "least", "left", "leftmost", "less", "lighter", "lightest", "lower", "lowermost",
    "magenta", "many", "more", "most", "nine", "no", "none", "not", "of", "one", "only", "or",
    "pentagon", "pentagons", "quarter", "quarters", "rectangle", "rectangles", "red", "right",
    "rightmost", "same", "semicircle", "semicircles", "seven", "shape", "shapes", "six",
    "smaller", "smallest", "square", "squares", "ten", "than", "the", "there", "third", "thirds",
    "three", "to", "triangle", "triangles", "twice", "two", "upper", "uppermost", "yellow",
    "zero",
)


def vocabulary() -> list[str]:
    """SPECIAL_TOKENS followed by WORDS; a token's id is its index."""
    return list(SPECIAL_TOKENS) + list(WORDS)
