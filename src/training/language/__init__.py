"""The ShapeWorld caption language: parsing, truth, caption generation.

A caption is parsed into a logical form (logic.py), evaluated against a World (semantics.py)
and generated from logical forms (generate.py, realize.py).
"""
from __future__ import annotations

from training.language.forms import form_of
from training.language.generate import CaptionMix, describe, sample_match_captions
from training.language.parser import parse
from training.language.semantics import evaluate
from training.world import World

__all__ = ["truth", "caption_form", "sample_match_captions", "describe", "CaptionMix"]


def truth(world: World, caption: str) -> bool | None:
    """Whether `caption` is true of `world`; None when its form is not supported."""
    statement = parse(caption)
    if statement is None:
        return None
    return evaluate(statement, world)


def caption_form(caption: str) -> str | None:
    """The caption's form ("existential", "spatial", "count", ...); None if unsupported."""
    statement = parse(caption)
    return None if statement is None else form_of(statement)
