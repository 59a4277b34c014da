#!/usr/bin/python3
"""Writes REPORT.md and PNG plots from one benchmark run's JSON files (report/data/*.json).

Every number in the report comes from those files, i.e. from the same run. Parts that are missing
or invalid are listed under "Problems" at the top, and the exit status is 1 when there are any.
--real-size adds the "Real size" section (issue 12) from real_size_*.json; --parts real-size
writes a report of that section alone (run.sh --real-size-only).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from statistics import median

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mixed_load import mixed_p99_ratio  # noqa: E402
from previous_report import previous_report_section  # noqa: E402
from report_format import f, load, of_rounds, table  # noqa: E402

TARGETS = [
    # key, description, comparison, target
    ("service_vs_ceiling", "service throughput at its best concurrency / engine ceiling at its best batch size", ">=", 0.90),
    ("service_vs_peer", "service throughput / transformers.js throughput, same package and images", ">=", 3.0),
    ("latency_vs_peer", "service single-request latency / transformers.js per-image latency (p50)", "<=", 1.0),
    ("c16_vs_c1", "service throughput at concurrency 16 / at concurrency 1", ">=", 2.0),
    ("score8_vs_score1", "`/score` with 8 texts / `/score` with 1 text, latency (p50, concurrency 1)", "<=", 2.0),
    ("identical_captions", "greedy captions identical to transformers.js", ">=", 0.95),
    ("rss_growth", "RSS after 10,000 requests / RSS after warm-up", "<=", 1.10),
]


REAL_SIZE_TARGETS = [
    # key, description, comparison, target (None: reported, no goal)
    ("rs_service_vs_peer", "service throughput (concurrency 8, greedy) / transformers.js throughput (its best of sequential and concurrent calls)", ">=", 2.0),
    ("rs_latency_vs_peer", "single-request latency / transformers.js per-image latency (p50)", "<=", 1.0),
    ("rs_identical", "greedy captions identical to transformers.js (trimmed strings)", ">=", 0.95),
    ("rs_mixed", "mixed load: greedy p99 with 8 greedy + 2 `beams=8` clients / greedy p99 with the 8 greedy clients only", "<=", 1.5),
    ("rs_queue_wait", "mixed load: p99 of a greedy request's wait in the batch queues (its `timings.queueMs`, the encode queue "
                      "included) / 2 decoder-step times (batch 16, mean of positions 0-15)", "<=", 1.0),
    ("rs_caption_queue_wait", "mixed load: p99 of a greedy request's wait for its first decoder step once its image is encoded "
                              "(its `timings.captionQueueMs`) / 2 decoder-step times (as above)", "<=", 1.0),
    ("rs_caption_queue_wait_in_load", "mixed load: the same wait / 2 decoder-step times of the caption stage during that load (the "
                                      "server's `captionservice_decoder_step_time`, mean over the load: the steps a request joins between)", "<=", 1.0),
    ("rs_encoder_yield_wait", "mixed load: the same wait with the encoder yielding the CPU to decoding (the default "
                              "`EncoderNiceness`) / with it at equal priority (`EncoderNiceness` 0: a second server, loaded "
                              "right after in each round)", "<=", 1.0),
    ("rs_encoder_yield_throughput", "mixed load: the greedy clients' throughput, the encoder yielding / at equal priority (as above)", ">=", 0.95),
    ("rs_steps", "decoder step time at position 32 / at position 2, batch 16", "<=", 1.5),
    ("rs_service_vs_ceiling", "service at its best / engine ceiling at its best batch size", ">=", 0.90),
    ("rs_rss", "peak RSS (VmHWM) at concurrency 64 / the weights' size on disk", None, None),
]


def real_size_section(data: Path, problems: list[str], plots: Path, images: list[tuple[str, str]]) -> list[str]:
    """The "Real size" section: the issue-12 measures on a synthetic vit-gpt2 package, from real_size_*.json."""
    pkg = load(data, "real_size_package", problems)
    svc = load(data, "real_size_service", problems)
    peer = load(data, "real_size_peer", problems)
    steps = load(data, "real_size_steps", problems)
    ceil = load(data, "real_size_ceiling", problems)
    ratios: dict[str, tuple[float | None, str]] = {}
    mismatches = []
    best_peer = peer_seq = None
    if peer:
        best = max(peer["runs"], key=lambda r: r["images_per_s"])
        best_peer = (best["images_per_s"], best["concurrency"])
        peer_seq = next((r for r in peer["runs"] if r["concurrency"] == 1), None)
    loads = service_loads(svc) if svc else []
    rounds = svc["rounds"] if svc else []
    for name, r in loads:
        if r["errors"]:
            problems.append(f"real size: {r['errors']} errors with {name} (first: `{r['first_error'][:120]}`)")
    if rounds and best_peer:
        t = median(r["greedy_8"]["throughput_rps"] for r in rounds)
        ratios["rs_service_vs_peer"] = (t / best_peer[0], f"{f(t, 2)}/s{of_rounds(rounds)} vs {f(best_peer[0], 2)}/s "
                                                          f"(peer at {best_peer[1]} concurrent call{'s' if best_peer[1] > 1 else ''})")
    if svc and peer_seq:
        a, b = svc["sequential"]["latency_ms"]["p50"], peer_seq["latency_ms"]["p50"]
        ratios["rs_latency_vs_peer"] = (a / b, f"{f(a, 0)} ms vs {f(b, 0)} ms")
        peer_caps = {r["image"]: r["caption"].strip() for r in peer_seq["per_image"]}
        common = [k for k in peer_caps if k in svc["captions"]]
        if len(common) < len(peer_caps):
            problems.append(f"real size: {len(peer_caps) - len(common)} peer images have no service caption")
        if common:
            same = sum(peer_caps[k] == svc["captions"][k].strip() for k in common)
            mismatches = [(k, svc["captions"][k], peer_caps[k]) for k in common if peer_caps[k] != svc["captions"][k].strip()]
            ratios["rs_identical"] = (same / len(common), f"{same}/{len(common)} images")
    if rounds:
        ratios["rs_mixed"] = mixed_p99_ratio(rounds)
    by_pos = {}
    if steps:
        by_pos = {pt["position"]: pt["step_ms"]["median"] for pt in steps["steps"]["steps"]}
        if 32 in by_pos and 2 in by_pos:
            ratios["rs_steps"] = (by_pos[32] / by_pos[2], f"{f(by_pos[32], 1)} ms vs {f(by_pos[2], 1)} ms (medians of {steps['steps']['passes']} passes, batch {steps['steps']['rows']})")
    early = [by_pos[p] for p in range(16) if p in by_pos]
    for key, timing in (("rs_queue_wait", "queue_ms"), ("rs_caption_queue_wait", "caption_queue_ms")):
        waits = [r["mixed"]["greedy"].get(timing) for r in rounds]
        if waits and all(waits) and early:
            step = sum(early) / len(early)
            p99 = median(w["p99"] for w in waits)
            each = f"{', '.join(f(w['p99'], 0) for w in waits)} ms, " if len(waits) > 1 else ""
            ratios[key] = (p99 / (2 * step), f"p99 {f(p99, 0)} ms{of_rounds(rounds)} ({each}of {'/'.join(str(w['n']) for w in waits)} answers) "
                                             f"vs 2 × {f(step, 1)} ms")
    waits = [r["mixed"]["greedy"].get("caption_queue_ms") for r in rounds]
    in_load = [r["mixed"].get("decoder_steps", {}).get("mean_ms") for r in rounds]
    if waits and all(waits) and all(in_load):
        by_round = [w["p99"] / (2 * s) for w, s in zip(waits, in_load)]
        shown = ", ".join(f"{x:.2f}× ({f(w['p99'], 0)} ms vs 2 × {f(s, 1)} ms)" for x, w, s in zip(by_round, waits, in_load))
        ratios["rs_caption_queue_wait_in_load"] = (median(by_round), ("median of rounds " if len(rounds) > 1 else "") + shown)
    equal = svc.get("equal_priority", {}).get("rounds", []) if svc else []
    if equal and len(equal) == len(rounds):
        for key, measure, unit, digits in (("rs_encoder_yield_wait", lambda g: g["caption_queue_ms"]["p99"], " ms", 0),
                                           ("rs_encoder_yield_throughput", lambda g: g["throughput_rps"], "/s", 2)):
            pairs = [(measure(r["mixed"]["greedy"]), measure(e["mixed"]["greedy"])) for r, e in zip(rounds, equal)]
            by_round = [a / b for a, b in pairs]
            shown = ", ".join(f"{x:.2f}× ({f(a, digits)}{unit} vs {f(b, digits)}{unit})" for x, (a, b) in zip(by_round, pairs))
            ratios[key] = (median(by_round), ("median of rounds " if len(rounds) > 1 else "") + shown)
    best_ceil = best_caption_ceiling(ceil) if ceil else None
    best_svc = None
    if svc:
        # The best of every greedy load, as the ceiling is the best of its rounds and spans. Measured
        # as the ceiling's pipelined runs are, over whole bursts after a warm-up, when the run has
        # that rate (older runs have only wrk's, which also counts the stages filling at the start).
        greedy = [(r["greedy_8"], 8) for r in rounds] + [(svc["greedy_64"], 64)]
        best_svc = max((service_rate(r), c, "span" if r.get("span") else "wrk") for r, c in greedy)
    if best_ceil and best_svc:
        how = (f"over whole bursts after a {f(svc['config']['span_s'], 0)} s warm-up, as the ceiling's pipelined runs"
               if best_svc[2] == "span" else "answers over wrk's whole duration")
        ratios["rs_service_vs_ceiling"] = (best_svc[0] / best_ceil[0], f"{f(best_svc[0], 2)}/s at c={best_svc[1]} ({how}) "
                                                                       f"vs {f(best_ceil[0], 2)}/s {best_ceil[1]}")
    if svc and pkg:
        rss, weights = svc["greedy_64"]["peak_rss_mb"], pkg.get("served_weights_bytes", pkg["weights_bytes"]) / 2**20
        ratios["rs_rss"] = (rss / weights, f"{f(rss, 0)} MB peak vs {f(weights, 0)} MiB of graphs the server loads; {f(svc['rss_after_start_mb'], 0)} MB after start-up")

    rows = []
    for key, desc, op, target in REAL_SIZE_TARGETS:
        value, basis = ratios.get(key, (None, "not measured"))
        if value is None:
            verdict = "**not measured**"
            problems.append(f"real size: not computed: {desc}")
        elif op is None:
            verdict = "reported"
        else:
            verdict = "met" if (value >= target if op == ">=" else value <= target) else "**missed**"
        pct = key == "rs_identical"
        shown = "—" if value is None else (f"{value:.1%}" if pct else f"{value:.2f}×")
        tshown = "reported" if op is None else (f"{op} {target:.0%}" if pct else f"{op} {target:g}×")
        rows.append([desc, shown, tshown, verdict, basis])

    md = ["## Real size (issue 12)", ""]
    if pkg:
        shapes = ("random weights in vit-gpt2's exact shapes, ViT-B/16 + GPT-2 small" if pkg["preset"] == "vit-gpt2-base" else
                  "random weights, vit-gpt2's architecture, input and vocabulary at a reduced size: a harness test, not the issue's package")
        md += [f"A synthetic `{pkg['preset']}` package (seed {pkg['seed']}, {shapes}; "
               f"{f(pkg['weights_bytes'] / 2**20, 0)} MiB of graphs), generated by `python -m training synth` into "
               f"`{Path(pkg['package']).name}` (the suffix digests the generator's sources; "
               f"{'reused from the cache' if pkg['reused'] else 'made in ' + f(pkg['synth_s'], 0) + ' s'}). "
               f"{pkg['images']} ShapeWorld scenes scaled to {pkg['image_size'][0]}×{pkg['image_size'][1]} with nearest-neighbour, "
               f"so that neither engine resizes. `maxTokens` {pkg['max_tokens']} everywhere (transformers.js: `max_new_tokens` "
               f"{pkg['max_tokens']}); same threads for the service, the ceiling and the peer. The weights are random, so the "
               f"captions are meaningless and nearly always run to the full {pkg['max_tokens']} tokens."
               + (" Both engines read the same package: transformers.js runs its Optimum graphs (encoder and merged "
                  "decoder); the server loads the encoder and the image-cache pair that `synth --image-cache` makes from "
                  "the same weights (each layer's cross-attention keys and values computed once per image, and a decoder "
                  "with `attention_mask` and `position_ids`, so that requests join a running batch as rows): "
                  f"{', '.join(pkg['served_graphs'])}, {f(pkg['served_weights_bytes'] / 2**20, 0)} MiB."
                  if pkg.get("served_graphs") and "onnx/decoder_with_image_cache.onnx" in pkg["served_graphs"] else ""), ""]
    md += [table(["measure", "measured", "goal", "verdict", "from"], rows, numeric=False), ""]
    if svc:
        seq = svc["sequential"]
        dur = svc["durations_s"]
        timeout = svc["env"].get("CaptionService__Batching__RequestTimeout")
        md += ["### Service", "",
               f"One server (`IntraOpThreads` {svc['threads']}, default batching"
               + (f", `RequestTimeout` {timeout} so that no request is refused for its wait in the queue" if timeout else "")
               + f"); ready in {f(svc['startup_s'], 1)} s. {len(rounds)} round(s) of {f(dur['greedy_8'], 0)} s with 8 greedy "
               f"clients alone, then {f(dur['mixed'], 0)} s of them beside 2 `beams=8` clients; then {f(dur['greedy_64'], 0)} s "
               "with 64. Each load starts after the server has finished what the previous one left queued."
               + (" A second server, the same but for `EncoderNiceness` 0 (the image encoder at the decoder's priority), "
                  "was idle but for the same mixed load right after the first server's in each round."
                  if svc.get("equal_priority") else ""), "",
               table(["load", "requests/s", "after warm-up", "p50 ms", "p95 ms", "p99 ms", "queue wait p99 ms", "ok", "errors",
                      "avg batch by stage", "peak RSS MB"], [
                   [f"1 request at a time ({seq['images']} images)", f(seq["images_per_s"], 2), "", f(seq["latency_ms"]["p50"], 0),
                    f(seq["latency_ms"]["p95"], 0), f(seq["latency_ms"]["p99"], 0), "", seq["images"], 0, "", ""],
                   *[[name, f(r["throughput_rps"], 2), f(r["span"]["images_per_s"], 2) if r.get("span") else "",
                      f(r["latency_ms"]["p50"], 0), f(r["latency_ms"]["p95"], 0),
                      f(r["latency_ms"]["p99"], 0), f((r.get("queue_ms") or {}).get("p99"), 0), r["ok"], r["errors"],
                      ", ".join(f"{k} {v:.1f}" for k, v in sorted(r.get("avg_batch_size_by_stage", {}).items())),
                      f(r["peak_rss_mb"], 0) if "peak_rss_mb" in r else ""]
                     for name, r in loads],
               ]), "",
               f"Peak RSS during the mixed loads: {', '.join(f(r['mixed']['peak_rss_mb'], 0) for r in rounds)} MB. RSS after start-up "
               f"{f(svc['rss_after_start_mb'], 0)} MB, at the end {f(svc['rss_after_mb'], 0)} MB. The queue wait is the "
               "p99 of the answers' own `timings.queueMs`. The batch sizes are the server's histogram over the load and "
               "the drain after it; the caption stage records a batch when it ends, and under continuous batching a "
               "batch that requests keep joining counts every row that ever joined it, so its average can exceed the "
               "number of clients."
               + (f" requests/s is wrk's: answers over the whole load, from an idle server. \"After warm-up\" is the rate "
                  f"over whole bursts of answers after the first {f(svc['config']['span_s'], 0)} s, measured as the engine "
                  "ceiling's pipelined runs are (below): the service at its best is compared with the ceiling on it. "
                  f"The first answer of the 64 clients came {f(svc['greedy_64'].get('first_answer_s'), 1)} s into their load."
                  if any(r.get("span") for _, r in loads) else ""), ""]
    if peer:
        rows = [[r["concurrency"], r["images"], f(r["images_per_s"], 2), f(r["latency_ms"]["p50"], 0), f(r["latency_ms"]["p95"], 0),
                 f(r["latency_ms"]["p99"], 0)] for r in peer["runs"]]
        md += ["### transformers.js", "",
               f"transformers.js {peer['versions']['transformers_js']}, {peer['threads']} intra-op threads, {peer['decoding']}; "
               f"load {f(peer['load_ms'] / 1000, 1)} s, {peer['warmup']} warm-up captions.", "",
               table(["concurrent calls", "images", "images/s", "p50 ms", "p95 ms", "p99 ms"], rows), ""]
        if mismatches:
            md += ["First caption differences:", "", table(["image", "service", "transformers.js"],
                   [[k, f"`{a}`", f"`{b}`"] for k, a, b in mismatches[:5]], numeric=False), ""]
    if ceil:
        rows = [[pt["batch_size"], f(pt["images_per_second"]["median"], 2), f(pt["images_per_second"]["min"], 2),
                 f(pt["images_per_second"]["max"], 2), f(pt["round_ms"]["median"], 0), f(pt["mean_caption_words"])]
                for pt in ceil["ceiling"] if pt["task"] == "caption"]
        md += ["### Engine ceiling", "",
               f"The ceiling tool on the same package and images, captions only, `maxTokens` {ceil['settings'].get('max_tokens')}, "
               f"{ceil['settings']['runs']} run(s) of {ceil['settings']['run_seconds']} s (at least one round each).", "",
               table(["batch", "images/s median", "min", "max", "round ms", "caption words"], rows), ""]
        md += pipelined_table(ceil)
    if steps:
        st = steps["steps"]
        shown = [p for p in (0, 1, 2, 4, 8, 16, 24, 32, 39) if p in by_pos]
        # Older runs timed only the host-memory step; newer ones also the device-resident one (IOBinding).
        device_pos = {pt["position"]: pt["step_ms"]["median"] for pt in st.get("device_steps") or []}
        step_rows = [["step ms" if not device_pos else "step ms, state in host memory"] + [f(by_pos[p], 1) for p in shown]]
        if device_pos:
            step_rows.append(["step ms, state on the device (IOBinding)"] + [f(device_pos[p], 1) if p in device_pos else "" for p in shown])
        md += ["### Decoder step time by position", "",
               f"`OnnxDecoderStep` (the engine's decoder step{', and `BoundDecoderStep`, its device-resident twin, pass by pass in turn' if device_pos else ''}) "
               f"over a fixed batch of {st['rows']} rows, {st['layers']} layers, "
               f"{st['heads']} heads of {st['head_size']}, vocabulary {st['vocabulary_size']:,}, provider {st['execution_provider']}; "
               f"median of {st['passes']} passes after a warm-up pass; encoding the batch took {f(st['encode_ms'], 0)} ms"
               + (f"; one image's decoder inputs (with an image cache, every layer's cross-attention keys and values, which the "
                  f"encode stage makes for a caption request) took {f(st['join_image_ms']['median'], 1)} ms (median of "
                  f"{st['join_image_ms']['n']})." if st.get("join_image_ms") else "."), "",
               table(["position"] + [str(p) for p in shown], step_rows), ""]
        fig, ax = plt.subplots(figsize=(7, 4))
        xs = sorted(by_pos)
        ax.plot(xs, [by_pos[x] for x in xs], "o-", ms=3, label="state in host memory")
        if device_pos:
            dxs = sorted(device_pos)
            ax.plot(dxs, [device_pos[x] for x in dxs], "s-", ms=3, label="state on the device (IOBinding)")
            ax.legend()
        ax.set_xlabel("position (tokens already in the cache)")
        ax.set_ylabel("step time, ms (median)")
        ax.set_title(f"Decoder step time, batch {st['rows']}, real-size package")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        fig.savefig(plots / "real_size_step_time.png", dpi=110)
        plt.close(fig)
        images.append(("Real size: decoder step time by position", "real_size_step_time.png"))
    return md



def best_caption_ceiling(ceil: dict) -> tuple[float, str] | None:
    """The engine ceiling for captions: the best of the rounds (one batch size at a time) and the
    pipelined runs (clients sending back to back, stages overlapping as in the service), with where it was reached."""
    candidates = [(pt["images_per_second"]["median"], f"at batch {pt['batch_size']}")
                  for pt in ceil["ceiling"] if pt["task"] == "caption"]
    candidates += [(pipelined_rate(pt), f"pipelined, {pt['clients']} clients") for pt in ceil.get("pipelined", [])]
    return max(candidates) if candidates else None


def pipelined_rate(pt: dict) -> float:
    """A pipelined point's images/s: over the whole timed span, or (files from before that measure)
    the median of the fixed windows, which counted whole bursts of answers only."""
    return pt.get("images_per_second_over_span", pt["images_per_second"]["median"])


def pipelined_table(ceil: dict) -> list[str]:
    points = ceil.get("pipelined", [])
    if not points:
        return []
    st = ceil["settings"]
    intro = ("Pipelined: the same engine with the service's default batching; each client sends its next caption request "
             "the moment the previous one is answered, so the encoder works on new images while captions decode. One "
             f"continuous load per client count: {max(st['warm_up_seconds'], st['run_seconds'])} s of warm-up, then {st['runs']} windows of "
             f"{st['run_seconds']} s. ")
    if all("images_per_second_over_span" in pt for pt in points):
        rows = [[pt["clients"], f(pt["images_per_second_over_span"], 2), pt["answers"], f(pt["span_seconds"], 1),
                 f(pt["images_per_second"]["median"], 2), f(pt["images_per_second"]["min"], 2), f(pt["images_per_second"]["max"], 2),
                 f(pt["latency_ms"]["median"], 0), batches_by_stage(pt)] for pt in points]
        return [intro + "Answers arrive in bursts (a batch's captions end together), so a window's answer count would "
                "only ever read whole bursts; instead each boundary (end of warm-up, end of each window) moves to the first "
                "answer at or after it, and a rate is the answers after one such answer up to and including the next, over "
                "the time between them: whole bursts over the time they took. images/s is that over the whole span (the "
                "answers and seconds columns); median, min and max are the same per window. The ceiling is the best of the "
                "span rates and the rounds above.", "",
                table(["clients", "images/s", "answers", "span s", "window median", "min", "max", "latency p50 ms",
                       "avg batch by stage"], rows), ""]
    rows = [[pt["clients"], f(pt["images_per_second"]["median"], 2), f(pt["images_per_second"]["min"], 2),
             f(pt["images_per_second"]["max"], 2), f(pt["latency_ms"]["median"], 0), batches_by_stage(pt)] for pt in points]
    return [intro + "This file is from before the span measure: each window counted the answers that arrived within it, "
            "so with answers arriving in bursts it read whole bursts only (e.g. 32 or 48 answers in 10 s: 3.2 or 4.8/s). "
            "The ceiling is the best of these medians and the rounds above.", "",
            table(["clients", "images/s median", "min", "max", "latency p50 ms", "avg batch by stage"], rows), ""]


def batches_by_stage(pt: dict) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in sorted(pt["average_batch_size_by_stage"].items()))

def timespan_ms(text: str) -> str:
    """'00:00:00.002' -> '2 ms'."""
    h, m, sec = text.split(":")
    return f"{(int(h) * 3600 + int(m) * 60 + float(sec)) * 1000:g} ms"


def uncommitted_changes(system: dict) -> list[str]:
    """`git status --porcelain` lines at measurement time; older runs recorded only a flag."""
    if "git_changes" in system:
        return system["git_changes"]
    return ["(not recorded)"] if system.get("git_dirty") else []


def service_loads(svc: dict) -> list[tuple[str, dict]]:
    """The real-size service's wrk loads, named as the report's table names them."""
    numbered = len(svc["rounds"]) > 1
    loads = []
    for number, r in enumerate(svc["rounds"], 1):
        suffix = f" (round {number})" if numbered else ""
        loads += [(f"8 greedy clients{suffix}", r["greedy_8"]), (f"mixed: the 8 greedy clients{suffix}", r["mixed"]["greedy"]),
                  (f"mixed: 2 `beams=8` clients{suffix}", r["mixed"]["beams"])]
    for number, r in enumerate(svc.get("equal_priority", {}).get("rounds", []), 1):
        suffix = f", round {number}" if numbered else ""
        loads += [(f"mixed: the 8 greedy clients (encoder at equal priority{suffix})", r["mixed"]["greedy"]),
                  (f"mixed: 2 `beams=8` clients (encoder at equal priority{suffix})", r["mixed"]["beams"])]
    return loads + [("64 greedy clients", svc["greedy_64"])]


def service_rate(load: dict) -> float:
    """A greedy load's rate as the ceiling measures its own (over whole bursts after a warm-up), or
    wrk's requests/s where the run has no such rate (an older run, or a load too short for one)."""
    return load["span"]["images_per_s"] if load.get("span") else load["throughput_rps"]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--parts", choices=["all", "real-size"], default="all",
                   help="real-size: the run measured only the real-size part (run.sh --real-size-only)")
    p.add_argument("--real-size", action="store_true", help="add the Real size section (real_size_*.json)")
    p.add_argument("--previous", type=Path, help="the last committed report's data (service.json, system.json): the "
                                                 "default package's throughput and latency are compared with it")
    a = p.parse_args()
    if a.parts == "real-size":
        a.real_size = True
    only_real_size = a.parts == "real-size"
    plots = a.out / "plots"
    plots.mkdir(parents=True, exist_ok=True)

    problems: list[str] = []
    caveats: list[str] = []
    system = load(a.data, "system", problems)
    ceiling = uncached = service = sweep = peer = None
    if not only_real_size:
        ceiling = load(a.data, "ceiling", problems)
        # Written only when the package has an image cache (run.sh), so its absence is a problem
        # only then (older runs do not say whether it had one).
        with_cache = bool(system and system["model"].get("has_image_cache"))
        uncached = load(a.data, "ceiling_without_image_cache", problems if with_cache else [])
        service = load(a.data, "service", problems)
        sweep = load(a.data, "sweep", problems)
        peer = load(a.data, "peer", problems)
    images: list[tuple[str, str]] = []
    real_size_md = real_size_section(a.data, problems, plots, images) if a.real_size else []

    md: list[str] = ["# CaptionService benchmark report" + (": real size only" if only_real_size else ""), ""]
    if system:
        changes = uncommitted_changes(system)
        if changes:
            md += [f"**NOT REPRODUCIBLE: measured on {system['git_commit'][:12]} with uncommitted changes, so no "
                   "commit gives these figures. Do not quote them; rerun on a committed tree.**", ""]
            caveats.append("uncommitted changes at measurement time: " + ", ".join(f"`{c}`" for c in changes[:10])
                           + (f" and {len(changes) - 10} more" if len(changes) > 10 else ""))
        if system["profile"] != "full":
            caveats.append(f"profile `{system['profile']}`: a harness test with tiny durations, not a benchmark")
        busy = float(system["loadavg_start"][0])
        if busy > 0.5:
            caveats.append(f"the machine was not quiet: 1-minute load average {busy} at the start "
                            f"(end: {system.get('loadavg_end', ['?'])[0]}) on {system['cpu_cores']} cores")
        if "untrained" in str(system["model"]["version"]):
            caveats.append(f"model version `{system['model']['version']}`: an untrained package, whose captions run to "
                            "the maximum length; numbers do not represent the shipped model")

    # ------------------------------------------------------------ derived values
    ratios: dict[str, tuple[float | None, str]] = {}
    best_ceiling = best_service = best_peer = None
    svc_by_c = {}
    if ceiling:
        best_ceiling = best_caption_ceiling(ceiling)
    if service:
        svc_by_c = {r["concurrency"]: r for r in service["caption"]}
        for r in service["caption"] + service["score"]:
            if r["errors"]:
                problems.append(f"{r['errors']} errors in the {('/score ' + str(r.get('texts')) + ' texts') if 'texts' in r else '/caption'} "
                                f"run at concurrency {r['concurrency']} (first: `{r['first_error'][:120]}`)")
        for name in ("warmup", "rss_run"):
            if service[name]["errors"]:
                problems.append(f"{service[name]['errors']} errors in the {name.replace('_', ' ')} (first: `{service[name]['first_error'][:120]}`)")
        best = max(service["caption"], key=lambda r: r["throughput_rps"])
        best_service = (best["throughput_rps"], best["concurrency"])
    if sweep:
        for r in sweep["rows"]:
            if r["errors"]:
                problems.append(f"{r['errors']} errors in the sweep at MaxBatchSize {r['max_batch_size']}, MaxQueueDelay "
                                f"{r['max_queue_delay']}, {r['intra_op_threads']} threads, concurrency {r['concurrency']} "
                                f"(first: `{r['first_error'][:120]}`)")
    if peer:
        best = max(peer["runs"], key=lambda r: r["images_per_s"])
        best_peer = (best["images_per_s"], best["concurrency"])
        peer_seq = next((r for r in peer["runs"] if r["concurrency"] == 1), None)
    else:
        peer_seq = None

    if best_service and best_ceiling:
        ratios["service_vs_ceiling"] = (best_service[0] / best_ceiling[0],
                                        f"{f(best_service[0])}/s at c={best_service[1]} vs {f(best_ceiling[0])}/s {best_ceiling[1]}")
    if best_service and best_peer:
        ratios["service_vs_peer"] = (best_service[0] / best_peer[0],
                                     f"{f(best_service[0])}/s vs {f(best_peer[0])}/s (peer at {best_peer[1]} concurrent calls)")
    if service and peer_seq and 1 in svc_by_c:
        s1 = svc_by_c[1]["latency_ms"]["p50"]
        ratios["latency_vs_peer"] = (s1 / peer_seq["latency_ms"]["p50"], f"{f(s1, 2)} ms vs {f(peer_seq['latency_ms']['p50'], 2)} ms")
    if service and 1 in svc_by_c and 16 in svc_by_c:
        ratios["c16_vs_c1"] = (svc_by_c[16]["throughput_rps"] / svc_by_c[1]["throughput_rps"],
                               f"{f(svc_by_c[16]['throughput_rps'])}/s vs {f(svc_by_c[1]['throughput_rps'])}/s")
    if service:
        sc = {r["texts"]: r for r in service["score"]}
        ratios["score8_vs_score1"] = (sc[8]["latency_ms"]["p50"] / sc[1]["latency_ms"]["p50"],
                                      f"{f(sc[8]['latency_ms']['p50'], 2)} ms vs {f(sc[1]['latency_ms']['p50'], 2)} ms")
        ratios["rss_growth"] = (service["rss_ratio"], f"{f(service['rss_after_requests_mb'])} MB after {service['rss_run']['requests']:,} "
                                                      f"requests vs {f(service['rss_after_warmup_mb'])} MB after warm-up")
    mismatches = []
    if service and peer_seq:
        peer_caps = {r["image"]: r["caption"].strip() for r in peer_seq["per_image"]}
        missing = [k for k in peer_caps if k not in service["captions"]]
        if missing:
            problems.append(f"{len(missing)} peer images have no service caption, e.g. {missing[:2]}")
        common = [k for k in peer_caps if k in service["captions"]]
        same = sum(peer_caps[k] == service["captions"][k].strip() for k in common)
        mismatches = [(k, service["captions"][k], peer_caps[k]) for k in common if peer_caps[k] != service["captions"][k].strip()]
        if common:
            ratios["identical_captions"] = (same / len(common), f"{same}/{len(common)} ShapeWorld images")

    # ------------------------------------------------------------ ratio table
    rows = []
    for key, desc, op, target in ([] if only_real_size else TARGETS):
        value, basis = ratios.get(key, (None, "not measured"))
        if value is None:
            verdict = "**not measured**"
            problems.append(f"ratio not computed: {desc}")
        else:
            ok = value >= target if op == ">=" else value <= target
            verdict = "met" if ok else "**missed**"
        shown = "—" if value is None else (f"{value:.1%}" if key == "identical_captions" else f"{value:.2f}")
        tshown = f"{op} {target:.0%}" if key == "identical_captions" else f"{op} {target:.2f}"
        rows.append([desc, shown, tshown, verdict, basis])

    if problems:
        md += ["## Problems with this run", ""] + [f"- {x}" for x in problems] + [""]
    if caveats:
        md += ["## Caveats", ""] + [f"- {x}" for x in caveats] + [""]
    if not only_real_size:
        md += ["## Targets (issue 5), computed from this run", "", table(["what", "measured", "target", "verdict", "from"], rows, numeric=False), ""]
        if a.previous and service:
            # Its absence is a problem the section names itself.
            baseline = load(a.data, "baseline", [])
            md += previous_report_section(a.previous, system, service, baseline, problems)

    if system:
        v = system["versions"]
        md += ["## Machine and versions", "",
               table(["", ""], [
                   ["date (UTC)", system["date_utc"]],
                   ["profile", system["profile"]],
                   ["CPU", f"{system['cpu_model']}, {system['cpu_cores']} cores ({system['cpu_affinity']} usable), {system['memory_gb']} GB"],
                   ["OS", f"{system['os']}, kernel {system['kernel']}"],
                   ["load average start / end", f"{system['loadavg_start'][0]} / {system.get('loadavg_end', ['?'])[0]}"],
                   ["intra-op threads (ceiling, service, peer)", system["threads"]],
                   ["commit", f"{system['git_commit'][:12]}{' + UNCOMMITTED CHANGES' if uncommitted_changes(system) else ' (clean tree)'}"],
                   ["model" + (" (parts a–c, not measured in this run)" if only_real_size else ""),
                    f"{system['model']['name']} {system['model']['version']} ({system['model']['bytes'] / 1e6:.1f} MB)"],
                   [".NET SDK / ONNX Runtime (service)", f"{v['dotnet_sdk']} / {v['onnxruntime_service']}"],
                   ["transformers.js / onnxruntime-node / Node", f"{v['transformers_js']} / {v['onnxruntime_node']} / {v['node']}"],
                   ["load generator", v["wrk"].split(" Copyright")[0]],
               ], numeric=False), ""]

    # ------------------------------------------------------------ (a) ceiling
    if ceiling:
        md += ["## (a) Engine ceiling (in-process, no HTTP)", "",
               f"`CaptionEngine` with `MaxBatchSize` = batch size; each round submits exactly that many requests at once "
               f"(encoded 100×100 PNGs from the ShapeWorld sets, so decoding and preprocessing are included) and waits for all. "
               f"{ceiling['settings']['runs']} timed runs of {ceiling['settings']['run_seconds']} s after "
               f"{ceiling['settings']['warm_up_seconds']} s of warm-up; the engine's batch-size histogram confirmed every batch size.", ""]
        rows = []
        for pt in ceiling["ceiling"]:
            ips = pt["images_per_second"]
            stages = ", ".join(f"{k} {v:.1f}" for k, v in sorted(pt["average_batch_size_by_stage"].items()))
            rows.append([pt["task"], pt["batch_size"], f(ips["median"]), f(ips["min"]), f(ips["max"]),
                         f(pt["round_ms"]["median"], 2), f(pt["mean_inference_ms"], 2), f(pt["mean_preprocess_ms"], 3), stages,
                         f(pt["mean_caption_words"]) if pt["mean_caption_words"] is not None else ""])
        md += [table(["task", "batch", "images/s median", "min", "max", "round ms", "inference ms/request", "preprocess ms",
                      "avg batch by stage", "caption words"], rows), ""]
        md += pipelined_table(ceiling)
        rows = [[pp["image"], f"{pp['width']}×{pp['height']}", f"{pp['encoded_bytes']:,}", pp["preprocess_ms"]["n"],
                 f(pp["preprocess_ms"]["median"], 3), f(pp["preprocess_ms"]["min"], 3), f(pp["preprocess_ms"]["max"], 3),
                 f(pp["request_ms"]["median"], 2)] for pp in ceiling["preprocessing"]]
        md += ["Preprocessing alone (decode, orient, resize, normalise), as the engine times it per request, batch size 1:", "",
               table(["image", "size", "bytes", "n", "median ms", "min ms", "max ms", "whole caption request ms"], rows), ""]

    if ceiling and uncached:
        with_cache = {pt["batch_size"]: pt for pt in ceiling["ceiling"] if pt["task"] == "caption"}
        rows = []
        for pt in uncached["ceiling"]:
            cached = with_cache.get(pt["batch_size"])
            if cached:
                a_ips, b_ips = cached["images_per_second"]["median"], pt["images_per_second"]["median"]
                rows.append([pt["batch_size"], f(a_ips), f(b_ips), f(a_ips / b_ips, 2),
                             f(cached["mean_inference_ms"], 2), f(pt["mean_inference_ms"], 2)])
        md += ["### What the image cache bought", "",
               "The same ceiling, captions only, on a copy of the package whose manifest leaves out the image cache, so "
               "that the engine decodes with the merged decoder (the Hugging Face graph, which projects the image tokens "
               "into every layer's cross-attention keys and values again at every step).", "",
               table(["batch", "with image cache, images/s", "without, images/s", "speed-up", "inference ms/request with",
                      "without"], rows), ""]

    # ------------------------------------------------------------ (b) service
    if service:
        md += ["## (b) Service over loopback", "",
               f"`CaptionService.Api` (Release), default batching, intra-op threads {service['threads']}; wrk posts raw "
               f"`image/png` bodies cycling over the {service['images']} ShapeWorld images, {service['config']['duration_s']} s per level "
               f"after a warm-up of {service['warmup']['ok']:,} requests at concurrency 16 and the RSS run below; the server "
               f"finishes what a level left queued before the next starts. Average batch sizes come from the server's `/metrics` "
               f"(difference over the level); peak RSS is VmHWM, reset before each level.", ""]
        rows = [[r["concurrency"], f(r["throughput_rps"]), f(r["latency_ms"]["p50"], 2), f(r["latency_ms"]["p95"], 2),
                 f(r["latency_ms"]["p99"], 2), r["ok"], r["errors"], f(r["avg_batch_size"], 2),
                 ", ".join(f"{k} {v:.2f}" for k, v in sorted(r["avg_batch_size_by_stage"].items())), f(r["peak_rss_mb"], 0)]
                for r in service["caption"]]
        md += ["### /caption", "", table(["concurrency", "requests/s", "p50 ms", "p95 ms", "p99 ms", "ok", "errors",
                                           "avg batch (caption)", "by stage", "peak RSS MB"], rows), ""]
        rows = [[r["texts"], f(r["throughput_rps"]), f(r["latency_ms"]["p50"], 2), f(r["latency_ms"]["p95"], 2),
                 f(r["latency_ms"]["p99"], 2), r["errors"]] for r in service["score"]]
        md += ["### /score latency, concurrency 1", "", table(["texts", "requests/s", "p50 ms", "p95 ms", "p99 ms", "errors"], rows), ""]
        md += ["### Memory", "", table(["", "MB"], [
            ["RSS after start-up (engine warm-up done)", f(service["rss_after_start_mb"])],
            [f"RSS after warm-up ({service['warmup']['ok']:,} requests at concurrency 16)", f(service["rss_after_warmup_mb"])],
            [f"RSS after {service['rss_run']['requests']:,} more requests at concurrency 16 ({service['rss_run']['errors']} errors)",
             f(service["rss_after_requests_mb"])],
        ]), ""]
    if sweep:
        rows = []
        for r in sweep["rows"]:
            rows.append([r["max_batch_size"], r["max_queue_delay"], r["intra_op_threads"], r["concurrency"], f(r["throughput_rps"]),
                         f(r["latency_ms"]["p50"], 2), f(r["latency_ms"]["p99"], 2), f(r["avg_batch_size"], 2), r["errors"]])
        best = {}
        for r in sweep["rows"]:
            if r["errors"] == 0 and (r["concurrency"] not in best or r["throughput_rps"] > best[r["concurrency"]]["throughput_rps"]):
                best[r["concurrency"]] = r
        md += ["### Sweep: MaxBatchSize × MaxQueueDelay × intra-op threads", "",
               f"A fresh server per configuration, {sweep['config']['sweep_duration_s']} s per concurrency level after "
               f"{sweep['config']['sweep_warmup_s']} s of warm-up.", "",
               table(["MaxBatchSize", "MaxQueueDelay", "threads", "concurrency", "requests/s", "p50 ms", "p99 ms", "avg batch", "errors"], rows), ""]
        md += ["Best error-free configuration per concurrency: " + "; ".join(
            f"c={c}: MaxBatchSize {r['max_batch_size']}, MaxQueueDelay {r['max_queue_delay']}, {r['intra_op_threads']} threads "
            f"({f(r['throughput_rps'])}/s)" for c, r in sorted(best.items())), ""]

    # ------------------------------------------------------------ (c) peer
    if peer:
        rows = [[r["concurrency"], r["images"], f(r["images_per_s"]), f(r["latency_ms"]["p50"], 2), f(r["latency_ms"]["p95"], 2),
                 f(r["latency_ms"]["p99"], 2)] for r in peer["runs"]]
        md += ["## (c) transformers.js peer", "",
               f"transformers.js {peer['versions']['transformers_js']} (onnxruntime-node {peer['versions']['onnxruntime_node']}), "
               f"offline, same package, {peer['threads']} intra-op threads, greedy, one pipeline; per image: decode (sharp) + "
               f"preprocess + generate + detokenize. Load time {f(peer['load_ms'])} ms; {peer['warmup']} warm-up captions.", "",
               table(["concurrent calls", "images", "images/s", "p50 ms", "p95 ms", "p99 ms"], rows), ""]
        if "identical_captions" in ratios:
            md += [f"Identical greedy captions, service vs transformers.js: {ratios['identical_captions'][1]} "
                   f"({ratios['identical_captions'][0]:.1%})."]
            if mismatches:
                md += ["", "First differences:", "", table(
                    ["image", "service", "transformers.js"],
                    [[k, f"`{s}`" if s else "(empty)", f"`{t}`" if t else "(empty)"] for k, s, t in mismatches[:5]], numeric=False)]
            md += [""]

    md += real_size_md

    # ------------------------------------------------------------ plots
    if not only_real_size:
        images[:0] = default_package_plots(plots, service, ceiling, peer, sweep)
    md += ["## Plots", ""] + [f"![{t}](plots/{p})" for t, p in images] + [""]
    md += ["## Reproduce", "", "```", "tests/benchmarks/run.sh" + (" --real-size-only" if only_real_size else ""), "```", "",
           "Raw numbers: [`data/`](data/) (" + ("system and real_size_*" if only_real_size else "system, ceiling, service, sweep, peer"
                                              + (", real_size_*" if a.real_size else "")) + " JSON from this run).", ""]
    (a.out / "REPORT.md").write_text("\n".join(md))
    print(f"report: {a.out / 'REPORT.md'} ({len(problems)} problem(s))", file=sys.stderr)
    for x in problems:
        print(f"  problem: {x}", file=sys.stderr)
    for x in caveats:
        print(f"  caveat: {x}", file=sys.stderr)
    return 1 if problems else 0


def default_package_plots(plots: Path, service, ceiling, peer, sweep) -> list[tuple[str, str]]:
    """Throughput against concurrency, latency percentiles and the batch-size effect for parts (a) to (c)."""
    images = []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if service:
        xs = [r["concurrency"] for r in service["caption"]]
        ax.plot(xs, [r["throughput_rps"] for r in service["caption"]], "o-", label="service /caption (x = concurrency)")
    if ceiling:
        cap = [pt for pt in ceiling["ceiling"] if pt["task"] == "caption"]
        ax.errorbar([pt["batch_size"] for pt in cap], [pt["images_per_second"]["median"] for pt in cap],
                    yerr=[[pt["images_per_second"]["median"] - pt["images_per_second"]["min"] for pt in cap],
                          [pt["images_per_second"]["max"] - pt["images_per_second"]["median"] for pt in cap]],
                    fmt="s--", capsize=3, label="engine ceiling caption (x = batch size)")
    if peer:
        ax.plot([r["concurrency"] for r in peer["runs"]], [r["images_per_s"] for r in peer["runs"]], "^-", label="transformers.js (x = concurrent calls)")
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("concurrency / batch size")
    ax.set_ylabel("images per second")
    ax.set_title("Caption throughput")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(plots / "throughput_vs_concurrency.png", dpi=110)
    plt.close(fig)
    images.append(("Throughput against concurrency", "throughput_vs_concurrency.png"))

    if service or peer:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        labels, groups = [], []
        if service:
            for r in service["caption"]:
                labels.append(f"service\nc={r['concurrency']}")
                groups.append(r["latency_ms"])
            for r in service["score"]:
                labels.append(f"score\n{r['texts']} text{'s' if r['texts'] > 1 else ''}")
                groups.append(r["latency_ms"])
        if peer:
            for r in peer["runs"]:
                labels.append(f"peer\nc={r['concurrency']}")
                groups.append(r["latency_ms"])
        width = 0.27
        for i, q in enumerate(("p50", "p95", "p99")):
            ax.bar([x + (i - 1) * width for x in range(len(groups))], [g[q] for g in groups], width, label=q)
        ax.set_xticks(range(len(groups)), labels, fontsize=7)
        ax.set_yscale("log")
        ax.set_ylabel("latency, ms (log)")
        ax.set_title("Latency percentiles")
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(plots / "latency_percentiles.png", dpi=110)
        plt.close(fig)
        images.append(("Latency percentiles", "latency_percentiles.png"))

    if ceiling or sweep:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
        if ceiling:
            for task in ("caption", "score1", "score8"):
                pts = [pt for pt in ceiling["ceiling"] if pt["task"] == task]
                if pts:
                    axes[0].plot([pt["batch_size"] for pt in pts], [pt["images_per_second"]["median"] for pt in pts], "o-", label=task)
            axes[0].set_xscale("log", base=2)
            axes[0].xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            axes[0].set_xlabel("batch size")
            axes[0].set_ylabel("images per second (median)")
            axes[0].set_title("Engine ceiling by batch size")
            axes[0].grid(True, alpha=0.3)
            axes[0].legend(fontsize=8)
        if sweep:
            series = {}
            top_c = max(r["concurrency"] for r in sweep["rows"])
            for r in sweep["rows"]:
                if r["concurrency"] == top_c:
                    series.setdefault((r["max_queue_delay"], r["intra_op_threads"]), []).append(r)
            for (delay, threads), rs in sorted(series.items()):
                rs.sort(key=lambda r: r["max_batch_size"])
                axes[1].plot([r["max_batch_size"] for r in rs], [r["throughput_rps"] for r in rs], "o-",
                             label=f"MaxQueueDelay {timespan_ms(delay)}, {threads} threads")
            axes[1].set_xscale("log", base=2)
            axes[1].xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            axes[1].set_xlabel("MaxBatchSize")
            axes[1].set_ylabel("requests per second")
            axes[1].set_title(f"Service sweep at concurrency {top_c}")
            axes[1].grid(True, alpha=0.3)
            axes[1].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(plots / "batch_size_effect.png", dpi=110)
        plt.close(fig)
        images.append(("Batch-size effect", "batch_size_effect.png"))
    return images


if __name__ == "__main__":
    sys.exit(main())
