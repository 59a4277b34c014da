"""The mixed-load p99 verdict: pooled over the rounds' answers when they were kept."""
from __future__ import annotations

import math

import pytest

from mixed_load import mixed_p99_ratio, nearest_rank


def load(latencies: list[float] | None, wrk_p99: float) -> dict:
    return {"ok": len(latencies or [1]), "latencies_ms": latencies, "latency_ms": {"p99": wrk_p99}}


def test_nearest_rank_takes_the_value_at_the_rank_not_between_two():
    values = list(range(1, 101))
    assert nearest_rank(values, 99) == 99
    assert nearest_rank(values, 50) == 50
    assert nearest_rank([7.0], 99) == 7.0


def test_the_verdict_is_the_p99_over_every_answer_of_every_round():
    # Alone, each round: 1,000-1,099 ms once each; over 300 answers the p99 is the 297th, 1,098 ms.
    alone = [1000.0 + i for i in range(100)]
    # Beside the beams: 2,000 ms, but the third round has a clump of 3 answers at 9,000 ms, its own
    # p99. Over all 300 answers they are the 3 slowest, above the 297th.
    rounds = [{"greedy_8": load(alone, 0), "mixed": {"greedy": load(m, 0)}}
              for m in ([2000.0] * 100, [2000.0] * 100, [2000.0] * 97 + [9000.0] * 3)]
    ratio, text = mixed_p99_ratio(rounds)
    assert ratio == pytest.approx(2000 / 1098)
    assert text.startswith("2,000 ms vs 1,098 ms, the p99 of all 300 and 300 answers of 3 rounds")
    # Each round's own, from the same answers (not wrk's figures), is still shown.
    assert "8.20× (9,000 ms vs 1,098 ms)" in text
    # A fourth such clump (4 of 300 answers) is more than 1%: the p99 is then in it.
    rounds[1]["mixed"]["greedy"] = load([2000.0] * 99 + [9000.0], 0)
    ratio, _ = mixed_p99_ratio(rounds)
    assert ratio == pytest.approx(9000 / 1098)


def test_rounds_without_answer_latencies_fall_back_to_the_median_of_wrks_p99s():
    rounds = [{"greedy_8": load(None, 2000.0), "mixed": {"greedy": load(None, p99)}} for p99 in (2800.0, 3600.0, 3000.0)]
    ratio, text = mixed_p99_ratio(rounds)
    assert ratio == pytest.approx(1.5)
    assert text.startswith("median of rounds ")


def test_greedy_clients_starved_beside_the_beams_are_an_infinite_ratio():
    starved = {"ok": 0, "latencies_ms": [], "latency_ms": {"p99": 0.0}}
    ratio, _ = mixed_p99_ratio([{"greedy_8": load([2000.0] * 10, 0), "mixed": {"greedy": starved}}])
    assert math.isinf(ratio)
