"""The real-size mixed-load verdict (issue 12): the 8 greedy clients' p99 beside 2 `beams=8` clients
over their p99 alone.

Within one round the p99 is a handful of answers: 8 closed-loop clients whose images are encoded in
the same batches come back in clumps, so a round's p99 is about its slowest clump or two, and one
engine's rounds read 1.44x to 1.82x. Where the rounds kept every answer's latency, the verdict is
the p99 over the answers of all rounds (three times the clumps); older runs have only wrk's
per-round figures, and then it is their median."""
from __future__ import annotations

import math
from statistics import median

from report_format import f


def nearest_rank(values: list[float], percentile: float) -> float:
    """The nearest-rank percentile, as the load script and the peer compute theirs."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(percentile / 100 * len(s)) - 1))]


def mixed_p99_ratio(rounds: list[dict]) -> tuple[float, str]:
    """(ratio, how it was measured) from real_size_service.json's rounds."""
    pooled = all(r["greedy_8"].get("latencies_ms") is not None and r["mixed"]["greedy"].get("latencies_ms") is not None
                 for r in rounds)

    def p99(load: dict) -> float:
        # A load without one answer (the greedy clients starved beside the beams) counts as infinitely slow.
        if not load["ok"]:
            return math.inf
        return nearest_rank(load["latencies_ms"], 99) if pooled else load["latency_ms"]["p99"]

    by_round = [(p99(r["mixed"]["greedy"]) / p99(r["greedy_8"]), p99(r["mixed"]["greedy"]), p99(r["greedy_8"])) for r in rounds]
    each = ", ".join(f"{x:.2f}× ({f(m, 0)} ms vs {f(a, 0)} ms)" for x, m, a in by_round)
    if not pooled:
        return median(x for x, _, _ in by_round), ("median of rounds " if len(rounds) > 1 else "") + each
    mixed = [v for r in rounds for v in r["mixed"]["greedy"]["latencies_ms"]]
    alone = [v for r in rounds for v in r["greedy_8"]["latencies_ms"]]
    mixed_p99 = nearest_rank(mixed, 99) if mixed else math.inf
    alone_p99 = nearest_rank(alone, 99)
    rounds_text = f"; the rounds alone: {each}" if len(rounds) > 1 else ""
    return mixed_p99 / alone_p99, (f"{f(mixed_p99, 0)} ms vs {f(alone_p99, 0)} ms, the p99 of all {len(mixed)} and "
                                   f"{len(alone)} answers{f' of {len(rounds)} rounds' if len(rounds) > 1 else ''}{rounds_text}")
