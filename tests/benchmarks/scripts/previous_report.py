"""Issue 12's "default package: throughput and latency vs the last committed report, no worse
than 0.95x", as a section of the benchmark report."""
from __future__ import annotations

from pathlib import Path
from statistics import median

from report_format import f, load, of_rounds, table

PREVIOUS_GOAL = 0.95


def previous_report_section(previous: Path, system: dict | None, service: dict, baseline: dict | None,
                            problems: list[str]) -> list[str]:
    """Issue 12's "default package: throughput and latency vs the last committed report, no worse
    than 0.95x". The verdicts come from the side-by-side run (baseline.json): this tree's server and
    the server of the commit that report came from, in turn on one package, in this run. The same
    figures against that report's own, taken on another day, follow without verdicts, to show how
    far the machine drifted. Both are speed ratios (throughput: this / previous; latency: previous /
    this), so that 1 means no change and less is worse; with three decimals, so that a ratio just
    under the goal does not read as the goal."""
    old, old_system = load(previous, "service", problems), load(previous, "system", problems)
    if not old or not old_system:
        return []

    def described(s: dict) -> str:
        return f"`{s['git_commit'][:12]}`, {s['date_utc'][:10]}, {s['model']['name']} {s['model']['version']}"

    def verdict(ratio: float) -> str:
        return "met" if ratio >= PREVIOUS_GOAL else "**missed**"

    md = ["## Default package against the last committed report (issue 12)", "",
          f"This run ({described(system) if system else 'no system.json'}) against the report it replaces "
          f"({described(old_system)}), read from git's HEAD. Each ratio is a speed ratio: below 1 is slower.", ""]
    goal = f">= {PREVIOUS_GOAL}×"
    if baseline:
        levels = [p["concurrency"] for p in baseline["rounds"][0]["this"]]

        def side_by_side(what: str, concurrency: int, speed) -> list:
            """speed(this, previous) -> (speed ratio, how it was computed) for one round's loads."""
            per_round = [speed(*(next(p for p in r[name] if p["concurrency"] == concurrency) for name in ("this", "previous")))
                         for r in baseline["rounds"]]
            ratio = median(x for x, _ in per_round)
            return [f"{what} at concurrency {concurrency}{of_rounds(baseline['rounds'])}", f"{ratio:.3f}×", goal,
                    verdict(ratio), "; ".join(shown for _, shown in per_round)]

        rows = [side_by_side("/caption throughput", max(levels), lambda this, prev: (
                    this["throughput_rps"] / prev["throughput_rps"],
                    f"{f(this['throughput_rps'])} vs {f(prev['throughput_rps'])}/s")),
                side_by_side("/caption latency p50", min(levels), lambda this, prev: (
                    prev["latency_ms"]["p50"] / this["latency_ms"]["p50"],
                    f"{f(this['latency_ms']['p50'], 2)} vs {f(prev['latency_ms']['p50'], 2)} ms"))]
        md += [f"Side by side: this tree's server and the server built from `{baseline['commit'][:12]}`, started in "
               f"turn on this run's package in each of {len(baseline['rounds'])} round(s), the first of the two "
               "alternating; each load after a warm-up. Per round: this server vs the previous one.", "",
               table(["measure", "measured", "goal", "verdict", "per round"], rows, numeric=False), ""]
    else:
        problems.append("no side-by-side run against the last report's server (baseline.json): the default package's "
                        "comparison with the last committed report has no verdict")

    def best(run: dict) -> dict:
        return max(run["caption"], key=lambda r: r["throughput_rps"])

    def at_1(run: dict) -> dict | None:
        return next((r for r in run["caption"] if r["concurrency"] == 1), None)

    new_best, old_best = best(service), best(old)
    rows = [["/caption throughput at the best concurrency (this run / previous)",
             f"{new_best['throughput_rps'] / old_best['throughput_rps']:.3f}×",
             f"{f(new_best['throughput_rps'])}/s at c={new_best['concurrency']} vs {f(old_best['throughput_rps'])}/s at "
             f"c={old_best['concurrency']}"]]
    new_1, old_1 = at_1(service), at_1(old)
    if new_1 and old_1:
        rows.append(["/caption latency p50 at concurrency 1 (previous / this run)",
                     f"{old_1['latency_ms']['p50'] / new_1['latency_ms']['p50']:.3f}×",
                     f"{f(new_1['latency_ms']['p50'], 2)} ms vs {f(old_1['latency_ms']['p50'], 2)} ms"])
    md += ["Across runs, for the machine's drift (no verdict): this run's service figures against the last report's. "
           "A different package version may have different graphs; the model card says which ones changed.", "",
           table(["measure", "measured", "from"], rows, numeric=False), ""]
    return md
