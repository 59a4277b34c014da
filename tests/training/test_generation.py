"""The transformers-style reference searches (training.generation) on a toy model with hand-worked answers,
the same table as the C# SearchTests."""

import math

import torch

from training.generation import GenerationSettings, beam_search, generate, no_repeat_ngram, repetition_penalty

START, END, A, B, C = 0, 1, 2, 3, 4
V = 5
FLOOR = 1e-9


def table(history: list[int]) -> dict[int, float]:
    """After start: A .5, B .4, end .1. After A: B .4, C .3, end .3. After A B or A C: end. After B: end .9, C .1."""
    generated = history[1:]
    if generated == []:
        return {A: 0.5, B: 0.4, END: 0.1}
    if generated == [A]:
        return {B: 0.4, C: 0.3, END: 0.3}
    if generated == [B]:
        return {END: 0.9, C: 0.1}
    return {END: 1.0}


def step(ids: torch.Tensor) -> torch.Tensor:
    rows = [[math.log(table(row).get(t, FLOOR)) for t in range(V)] for row in ids.tolist()]
    return torch.tensor(rows)  # (R, V)


def test_beam_search_ranks_by_sum_over_length_to_the_penalty():
    settings = GenerationSettings(max_new_tokens=10, num_beams=2, num_return_sequences=2, length_penalty=3.0)

    best, second = beam_search(step, START, END, settings)

    assert (best.ids, second.ids) == ([A, B, END], [A, C, END])
    assert math.isclose(best.score, math.log(0.2) / 27, rel_tol=1e-5)
    assert math.isclose(best.log_prob, math.log(0.2), rel_tol=1e-5)


def test_length_penalty_zero_ranks_by_log_probability():
    settings = GenerationSettings(max_new_tokens=10, num_beams=2, num_return_sequences=2, length_penalty=0.0, early_stopping="never")

    best, second = beam_search(step, START, END, settings)

    assert (best.ids, second.ids) == ([B, END], [A, B, END])
    assert math.isclose(best.score, math.log(0.36), rel_tol=1e-5)


def test_the_token_limit_finishes_the_best_beams():
    settings = GenerationSettings(max_new_tokens=1, num_beams=3, num_return_sequences=3)

    assert [h.ids for h in beam_search(step, START, END, settings)] == [[A], [B], [END]]


def test_greedy_without_options_takes_the_argmax():
    assert generate(step, START, END, GenerationSettings(max_new_tokens=10))[0].ids == [A, B, END]


def test_processors_see_the_start_token():
    ids = torch.tensor([[START, A, START]])  # (1, L)
    scores = torch.tensor([[-1.0, 2.0, -3.0, 4.0, 0.5]])  # (1, V)

    penalised = repetition_penalty(ids, scores, 2.0)
    banned = no_repeat_ngram(ids, scores, 2)  # "START A" occurred, so A may not follow START again

    assert penalised.tolist() == [[-2.0, 2.0, -6.0, 4.0, 0.5]]
    assert banned[0, A] == -math.inf and torch.isfinite(banned[0, [START, END, B, C]]).all()


def test_committed_generation_cases_are_what_the_reference_gives_now():
    """The fixture's decoder rebuilt from its ONNX initializers still reproduces the parity logits
    and greedy ids, and one committed case is regenerated unchanged."""
    import json

    from training.generation_fixture import CASES, FIXTURES, PACKAGES, _step, check_against_fixture, decoder_from_onnx

    arguments = dict(CASES)["beams4_length_penalty2_never"]
    for package, package_dir in PACKAGES.items():
        committed = json.loads((FIXTURES / package / "generation_cases.json").read_text(encoding="utf-8"))
        case = next(c for c in committed["cases"] if c["name"] == "beams4_length_penalty2_never")
        generation = json.loads((package_dir / "generation_config.json").read_text(encoding="utf-8"))
        decoder = decoder_from_onnx(package_dir)
        image = check_against_fixture(decoder, FIXTURES / package)
        settings = GenerationSettings(max_new_tokens=min(generation["max_length"] - 1, decoder.n_positions), **arguments)
        for i, expected in enumerate(case["images"]):
            found = generate(_step(decoder, image[i : i + 1]), generation["decoder_start_token_id"], generation["eos_token_id"], settings)
            assert [h.ids for h in found] == [h["ids"] for h in expected]
            assert all(math.isclose(h.score, e["score"], abs_tol=1e-6) for h, e in zip(found, expected))
