"""The default package against the last committed report (issue 12): the verdict comes from the
side-by-side run, not from figures taken on another day."""
from __future__ import annotations

import json

import pytest

from previous_report import previous_report_section


def point(concurrency: int, throughput: float, p50_ms: float) -> dict:
    return {"concurrency": concurrency, "throughput_rps": throughput, "latency_ms": {"p50": p50_ms}}


def system(commit: str) -> dict:
    return {"git_commit": commit, "date_utc": "2026-12-03T09:00:00Z", "model": {"name": "shapeworld-fusion", "version": "1.5.0"}}


def side_by_side(rounds: list[tuple[tuple[float, float], tuple[float, float]]]) -> dict:
    """rounds: ((this server's c=64 throughput, its c=1 p50), (the previous server's, ...)) per round."""
    return {"commit": "a" * 40, "rounds": [
        {name: [point(1, 1000 / p50, p50), point(64, throughput, 120.0)] for name, (throughput, p50) in zip(("this", "previous"), r)}
        for r in rounds]}


@pytest.fixture
def previous(tmp_path):
    # The last report was written on a quieter day: 10% faster than anything this run measures.
    (tmp_path / "service.json").write_text(json.dumps({"caption": [point(1, 90, 11.0), point(64, 550.0, 110.0)]}))
    (tmp_path / "system.json").write_text(json.dumps(system("a" * 40)))
    return tmp_path


THIS_RUN = {"caption": [point(1, 80, 12.2), point(64, 500.0, 125.0)]}


def verdicts(md: list[str]) -> dict[str, str]:
    """The verdict column of the side-by-side table, by measure."""
    lines = "\n".join(md).splitlines()
    rows = [line.split(" | ") for line in lines if line.startswith("| /caption") and len(line.split(" | ")) == 5]
    return {cells[0].lstrip("| "): cells[3] for cells in rows}


def test_a_slower_day_is_not_a_slower_server(previous):
    problems: list[str] = []
    md = previous_report_section(previous, system("b" * 40), THIS_RUN,
                                 side_by_side([((500, 12.2), (505, 12.1)), ((498, 12.3), (490, 12.4))]), problems)
    assert verdicts(md) == {"/caption throughput at concurrency 64, median of 2 rounds": "met",
                            "/caption latency p50 at concurrency 1, median of 2 rounds": "met"}
    # The drift across runs is still shown, without a verdict.
    assert any("0.909×" in line and "500.0/s at c=64 vs 550.0/s" in line for line in "\n".join(md).splitlines())
    assert problems == []


def test_a_slower_server_misses_side_by_side(previous):
    # This server is 10% slower in two rounds of three; the median round decides.
    md = previous_report_section(previous, system("b" * 40), THIS_RUN,
                                 side_by_side([((450, 13.4), (500, 12.2)), ((455, 12.0), (450, 12.1)),
                                               ((445, 13.5), (495, 12.1))]), [])
    shown = verdicts(md)
    assert shown["/caption throughput at concurrency 64, median of 3 rounds"] == "**missed**"
    assert shown["/caption latency p50 at concurrency 1, median of 3 rounds"] == "**missed**"
    assert "| 0.900× |" in "\n".join(md)


def test_without_a_side_by_side_run_there_is_no_verdict_and_a_problem(previous):
    problems: list[str] = []
    md = previous_report_section(previous, system("b" * 40), THIS_RUN, None, problems)
    assert verdicts(md) == {}
    assert len(problems) == 1 and "side-by-side" in problems[0]
