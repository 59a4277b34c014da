"""burst_span: the service's rate after a warm-up, measured as the engine ceiling measures its own."""
from __future__ import annotations

import pytest

from service_bench import burst_span


def bursts(every_s: float, size: int, until_s: float, first_s: float) -> list[float]:
    """Answers arriving `size` at a time (a batch's captions end together), every `every_s` seconds."""
    times, at = [], first_s
    while at <= until_s:
        times += [at] * size
        at += every_s
    return times


@pytest.mark.parametrize("phase_s", [0.0, 0.4, 1.9, 3.3])
def test_whole_bursts_give_the_true_rate_wherever_the_windows_fall(phase_s):
    # 16 answers every 3.5 s is 4.571/s; a fixed 10 s window would read 3 or 2 bursts (4.8 or 3.2/s).
    answers = bursts(3.5, 16, 90, first_s=4 + phase_s)
    span = burst_span(answers, warm_up_s=10, window_s=10)
    assert span["images_per_s"] == pytest.approx(16 / 3.5)
    assert all(r == pytest.approx(16 / 3.5) for r in span["window_rates"])
    assert span["answers"] % 16 == 0


def test_the_warm_up_is_left_out():
    # No answer for the first 6 s while the stages fill, then 2/s: wrk's answers over 60 s read
    # about 1.8/s, the span 2/s.
    answers = [6 + i * 0.5 for i in range(109)]
    span = burst_span(answers, warm_up_s=10, window_s=10)
    assert span["images_per_s"] == pytest.approx(2.0)
    assert answers[0] >= 6 and len(answers) / 60 < 1.9


def test_a_window_without_an_answer_merges_into_the_next():
    answers = [1.0, 10.5, 31.0, 32.0]
    span = burst_span(answers, warm_up_s=10, window_s=10)
    # The boundary at 10 falls on the answer at 10.5; those at 20 and 30 both on 31.0; at 40 on none.
    assert span["window_rates"] == [pytest.approx(1 / 20.5)]
    assert span["answers"] == 1


def test_a_load_too_short_for_two_boundaries_has_no_span():
    assert burst_span([1.0, 2.0, 12.0], warm_up_s=10, window_s=10) is None
    assert burst_span([], warm_up_s=10, window_s=10) is None
