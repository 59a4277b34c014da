"""Caption generation: truth values, minimal edits, vocabulary, describe(), round trips."""
from __future__ import annotations

import random

import pytest

from training.language import CaptionMix, caption_form, describe, sample_match_captions, truth
from training.language.edits import minimal_edits
from training.language.forms import FORMS
from training.language.generate import names_present_pair
from training.language.logic import Quantified, Relation, Statement
from training.language.parser import parse
from training.language.realize import realize
from training.language.semantics import evaluate, is_clear
from training.vocab import SPECIAL_TOKENS, WORDS, vocabulary
from training.world import Entity, World, sample_world

N_WORLDS = 300


@pytest.fixture(scope="module")
def generated():
    """(world, caption, value) for 8 captions on each of N_WORLDS random worlds."""
    rng = random.Random(2024)
    out = []
    for _ in range(N_WORLDS):
        world = sample_world(rng)
        out += [(world, c, v) for c, v in sample_match_captions(world, rng, 8)]
    return out


def test_returns_n_pairs_of_text_and_bool():
    world = sample_world(random.Random(0))
    captions = sample_match_captions(world, random.Random(1), 5)
    assert len(captions) == 5
    assert all(isinstance(c, str) and isinstance(v, bool) for c, v in captions)


def test_generation_is_reproducible():
    world = sample_world(random.Random(0))
    first = sample_match_captions(world, random.Random(5), 8)
    assert sample_match_captions(world, random.Random(5), 8) == first


def test_every_value_is_the_truth_of_its_caption(generated):
    for world, caption, value in generated:
        assert truth(world, caption) is value, caption


def test_about_half_are_true(generated):
    share = sum(v for _, _, v in generated) / len(generated)
    assert 0.45 <= share <= 0.55


def test_captions_are_well_formed_vocabulary_text(generated):
    words = set(WORDS)
    for _, caption, _ in generated:
        assert caption.endswith(" .") and caption == " ".join(caption.split())
        assert set(caption.split()) <= words, caption


def test_every_truth_value_is_clear_of_the_margins(generated):
    for world, caption, value in generated:
        assert is_clear(parse(caption), world), caption


def test_false_captions_are_minimal_edits_of_true_ones(generated):
    """Changing one colour, shape, relation or number of a false caption makes it true again."""
    for world, caption, value in generated:
        if not value:
            statement = parse(caption)
            assert any(evaluate(e, world) for e in minimal_edits(statement)), caption


def _false_relations(hard_negative_rate: float) -> list[tuple[World, Statement]]:
    rng = random.Random(77)
    out = []
    for _ in range(150):
        world = sample_world(rng)
        for caption, value in sample_match_captions(world, rng, 8, CaptionMix(hard_negative_rate=hard_negative_rate)):
            statement = parse(caption)
            if not value and isinstance(statement, Relation):
                out.append((world, statement))
    return out


def test_hard_negatives_name_entities_that_are_there():
    """At rate 1 a false relation is false only because of the relation: its subject and object
    are two entities of the scene."""
    false_relations = _false_relations(1.0)
    assert len(false_relations) >= 100
    assert all(names_present_pair(s, w) for w, s in false_relations)


def test_without_hard_negatives_most_false_relations_miss_a_named_entity():
    false_relations = _false_relations(0.0)
    present = sum(names_present_pair(s, w) for w, s in false_relations) / len(false_relations)
    assert present < 0.5


def test_names_present_pair_needs_two_different_entities():
    red_square = Entity("square", "red", 0.0, (0.2, 0.5), (0.1, 0.1), 0.0)
    world = World((red_square, Entity("circle", "blue", 0.0, (0.8, 0.5), (0.1, 0.1), 0.0)))
    assert names_present_pair(parse("a red square is to the right of a blue circle ."), world)
    assert not names_present_pair(parse("a red square is to the right of a green circle ."), world)
    assert not names_present_pair(parse("a red square is to the right of a square ."), world)


def _counted(mix: CaptionMix) -> list[int]:
    """How many things each true count caption counts, over scenes of 6 to 15 entities."""
    rng = random.Random(78)
    out = []
    for _ in range(150):
        world = sample_world(rng, min_entities=6, max_entities=15)
        for caption, value in sample_match_captions(world, rng, 8, mix):
            statement = parse(caption)
            if value and isinstance(statement, Quantified) and not statement.is_ratio:
                out.append(sum(statement.restrictor.matches(e) and statement.body.matches(e) for e in world.entities))
    return out


def test_spread_counts_count_several_things_more_often():
    spread, default = _counted(CaptionMix(spread_counts=True)), _counted(CaptionMix())
    assert len(spread) >= 50 and len(default) >= 50
    # measured: 70% against 34% (ShapeWorld's count set: 53%)
    assert sum(k >= 2 for k in spread) / len(spread) >= 0.55
    assert sum(k >= 2 for k in default) / len(default) < 0.45


REQUIRED_FORMS = ("existential", "spatial", "attribute", "comparative", "count")


def test_every_form_is_generated_true_and_false(generated):
    for form in FORMS:
        values = [v for _, c, v in generated if caption_form(c) == form]
        assert len(values) >= 10, form
        assert 0.25 <= sum(values) / len(values) <= 0.75, form  # both values occur often


def test_required_forms_dominate(generated):
    required = sum(1 for _, c, _ in generated if caption_form(c) in REQUIRED_FORMS)
    assert required / len(generated) >= 0.7


def test_one_entity_worlds_get_captions_too():
    world = World((Entity("cross", "cyan", 0.1, (0.5, 0.5), (0.1, 0.1), 0.0),))
    captions = sample_match_captions(world, random.Random(3), 20)
    assert {v for _, v in captions} == {True, False}
    assert all(truth(world, c) is v for c, v in captions)


def test_describe_is_always_true_and_in_vocabulary():
    rng = random.Random(11)
    words = set(WORDS)
    for _ in range(500):
        world = sample_world(rng)
        caption = describe(world)
        assert truth(world, caption) is True, caption
        assert set(caption.split()) <= words


def test_describe_names_the_single_entity():
    world = World((Entity("ellipse", "gray", 0.0, (0.3, 0.3), (0.1, 0.04), 0.2),))
    assert describe(world) == "there is a gray ellipse ."


def test_describe_puts_the_leftmost_entity_left_of_the_rightmost():
    left = Entity("circle", "green", 0.0, (0.1, 0.5), (0.05, 0.05), 0.0)
    big = Entity("square", "red", 0.0, (0.5, 0.45), (0.12, 0.12), 0.0)
    right = Entity("ellipse", "blue", 0.0, (0.9, 0.55), (0.12, 0.06), 0.0)
    world = World((big, right, left))
    assert describe(world) == "a green circle is to the left of a blue ellipse ."


def test_describe_puts_the_uppermost_entity_above_the_lowermost_when_the_scene_is_tall():
    top = Entity("cross", "cyan", 0.0, (0.5, 0.1), (0.08, 0.08), 0.0)
    middle = Entity("square", "red", 0.0, (0.3, 0.5), (0.12, 0.12), 0.0)
    bottom = Entity("triangle", "yellow", 0.0, (0.6, 0.9), (0.1, 0.1), 0.0)
    world = World((middle, bottom, top))
    assert describe(world) == "a cyan cross is above a yellow triangle ."


def test_the_clearest_extremes_rule_names_the_pair_with_the_larger_margin():
    # Both pairs clearly related: the horizontal one by 0.3 (its vertical offset), the vertical one by 0.85.
    left = Entity("circle", "green", 0.0, (0.1, 0.2), (0.05, 0.05), 0.0)
    right = Entity("ellipse", "blue", 0.0, (0.9, 0.7), (0.05, 0.05), 0.0)
    top = Entity("cross", "cyan", 0.0, (0.5, 0.05), (0.05, 0.05), 0.0)
    bottom = Entity("triangle", "yellow", 0.0, (0.45, 0.95), (0.05, 0.05), 0.0)
    world = World((left, right, top, bottom))
    assert describe(world) == "a green circle is to the left of a blue ellipse ."
    assert describe(world, "clearest-extremes") == "a cyan cross is above a yellow triangle ."
    with pytest.raises(ValueError, match="unknown caption rule"):
        describe(world, "biggest")


def test_the_clearest_extremes_rule_is_always_true():
    rng = random.Random(12)
    for _ in range(300):
        world = sample_world(rng)
        assert truth(world, describe(world, "clearest-extremes")) is True


def test_describe_falls_back_when_no_pair_is_clearly_related():
    a = Entity("square", "red", 0.0, (0.50, 0.50), (0.12, 0.12), 0.0)
    b = Entity("circle", "blue", 0.0, (0.52, 0.51), (0.06, 0.06), 0.0)
    assert describe(World((a, b))) == "there is a red square ."


def test_parse_and_realize_are_inverse_on_the_shared_captions(shared_examples):
    for ex in shared_examples:
        for caption, _ in ex.captions:
            statement = parse(caption)
            if statement is not None:
                assert parse(realize(statement)) == statement, caption


def test_vocabulary_layout():
    vocab = vocabulary()
    assert vocab[:5] == list(SPECIAL_TOKENS) == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert vocab[5:] == sorted(WORDS)
    assert len(set(vocab)) == len(vocab)


def test_vocabulary_covers_every_shared_caption(shared_examples):
    words = set(WORDS)
    for ex in shared_examples:
        for caption, _ in ex.captions:
            assert set(caption.split()) <= words, caption


def test_vocabulary_covers_the_generator_lexicon():
    from training.language import lexicon as lx

    words = set(lx.COLORS) | set(lx.PLURALS) | set(lx.SINGULARS) | set(lx.NUMBERS)
    words |= set(lx.FRACTION_NOUNS) | set(lx.SELECTORS)
    for table in (lx.COMPARISONS, lx.SPATIAL_RELATIONS, lx.DEPTH_RELATIONS,
                  lx.ATTRIBUTE_RELATIONS, lx.COMPARATIVE_RELATIONS, lx.DISTANCE_RELATIONS):
        for phrase in table:
            words |= set(phrase.split())
    # the fixed words the realiser writes around them
    words |= set("there is are a an the of than not no all half if and or only .".split())
    assert words <= set(WORDS), sorted(words - set(WORDS))


def test_a_mix_of_some_forms_generates_only_those():
    rng = random.Random(79)
    mix = CaptionMix(forms=("spatial", "comparative"))
    forms = set()
    for _ in range(60):
        world = sample_world(rng, min_entities=2, max_entities=2)
        forms |= {caption_form(c) for c, _ in sample_match_captions(world, rng, 8, mix)}
    assert forms == {"spatial", "comparative"}
