#!/usr/bin/python3
"""Benchmarks the real CaptionService over loopback with wrk (stdlib only).

Parts, each writing one JSON file into --out:
  service   default batching, intra-op threads = --threads: warm-up, RSS after warm-up and after
            10,000 more requests, /caption at each concurrency (throughput, p50/p95/p99, errors,
            average batch size from /metrics, peak RSS), /score latency with 1 and 8 texts, and the
            service's greedy caption of every ShapeWorld image (for the peer comparison).
  sweep     one fresh server per MaxBatchSize x MaxQueueDelay x intra-op threads, /caption load at
            a few concurrency levels.
  baseline  this server and --baseline-cmd (the server built from the last committed report's
            commit), started in turn on the same package, round after round: /caption latency at
            concurrency 1 and throughput at 64, side by side.

Fails (exit 1) on anything that would make a number meaningless: a server that does not become
ready, a malformed answer, a load run without one successful response, a missing batch-size
histogram. Error counts are recorded, not hidden; the report flags them.
"""
from __future__ import annotations

import argparse
import bisect
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent


class BenchError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[service {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- server process


class Server:
    """One CaptionService process, started with environment overrides, on 127.0.0.1:port."""

    def __init__(self, cmd: list[str], port: int, env: dict[str, str], log_path: Path, ready_timeout_s: float):
        self.port = port
        self.env = env
        self.log_path = log_path
        full_env = dict(os.environ)
        full_env.update(env)
        full_env["ASPNETCORE_URLS"] = f"http://127.0.0.1:{port}"
        full_env.setdefault("ASPNETCORE_ENVIRONMENT", "Production")
        full_env.setdefault("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
        self._log = open(log_path, "wb")
        started = time.monotonic()
        self.proc = subprocess.Popen(cmd + [f"--urls=http://127.0.0.1:{port}"], env=full_env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready(ready_timeout_s)
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - started

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"server exited with {self.proc.returncode} before ready; log tail:\n{self.log_tail()}")
            try:
                status, _, _ = self.request("GET", "/health/ready", timeout=2)
                if status == 200:
                    # A first scrape, so that the metrics pipeline is listening before any load.
                    status, _, _ = self.request("GET", "/metrics", timeout=10)
                    if status != 200:
                        raise BenchError(f"/metrics answered {status}")
                    return
            except OSError:
                pass
            time.sleep(0.25)
        raise BenchError(f"server not ready on port {self.port} after {timeout_s} s; log tail:\n{self.log_tail()}")

    def log_tail(self, n: int = 30) -> str:
        self._log.flush()
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 60) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def _status_kb(self, field: str) -> int:
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        m = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
        if not m:
            raise BenchError(f"no {field} in /proc/{self.proc.pid}/status")
        return int(m.group(1))

    def rss_mb(self) -> float:
        return self._status_kb("VmRSS") / 1024

    def peak_rss_mb(self) -> float:
        return self._status_kb("VmHWM") / 1024

    def reset_peak_rss(self) -> None:
        # Writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS (Linux >= 4.0).
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")

    def batch_histogram(self) -> dict[str, tuple[float, float]]:
        """(sum, count) of the captionservice batch-size histogram for each stage label; empty
        before the first batch after the first scrape (prometheus-net's MeterAdapter only starts
        listening when /metrics is first collected)."""
        return self.histogram("batch_size")

    def histogram(self, name: str) -> dict[str, tuple[float, float]]:
        """(sum, count) of the captionservice histogram `name` (batch_size, decoder_step_time, ...) for
        each stage label; see batch_histogram for when it is empty."""
        status, _, body = self.request("GET", "/metrics")
        if status != 200:
            raise BenchError(f"/metrics answered {status}")
        stages: dict[str, list[float]] = {}
        pattern = r"^captionservice_" + r"\w*".join(name.split("_")) + r"\w*_(sum|count)(\{[^}]*\})?\s+([0-9.eE+-]+)$"
        for line in body.decode().splitlines():
            m = re.match(pattern, line)
            if m:
                stage = re.search(r'stage="([^"]*)"', m.group(2) or "")
                acc = stages.setdefault(stage.group(1) if stage else "all", [0.0, 0.0])
                acc[0 if m.group(1) == "sum" else 1] += float(m.group(3))
        return {k: (v[0], v[1]) for k, v in stages.items()}

    def wait_idle(self, timeout_s: float = 120) -> None:
        """Waits until the server has finished requests a load generator left behind (wrk closes its
        connections at the end of a run, but queued requests still run): every queue-depth gauge
        at 0, no /caption or /score request in progress, and no new batch for half a second."""
        deadline = time.monotonic() + timeout_s
        previous = None
        while time.monotonic() < deadline:
            status, _, body = self.request("GET", "/metrics")
            text = body.decode()
            depths = [float(v) for v in re.findall(r"^captionservice\w*queue_depth(?:\{[^}]*\})?\s+([0-9.eE+-]+)$", text, re.M)]
            counts = re.findall(r"^captionservice\w*batch\w*size\w*_count(?:\{[^}]*\})?\s+([0-9.eE+-]+)$", text, re.M)
            # prometheus-net's HTTP middleware: requests still in the pipeline, per endpoint.
            running = [float(v) for v in re.findall(
                r'^http_requests_in_progress\{[^}]*endpoint="/(?:caption|score)"[^}]*\}\s+([0-9.eE+-]+)$', text, re.M)]
            if status == 200 and not any(depths) and not any(running) and counts == previous:
                return
            previous = counts
            time.sleep(0.5)
        raise BenchError(f"server still busy {timeout_s} s after the load stopped")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


# ---------------------------------------------------------------- load generation


def burst_span(answer_s: list[float], warm_up_s: float, window_s: float) -> dict | None:
    """The rate over whole bursts of answers after a warm-up, as the engine ceiling's pipelined runs
    measure it (PipelinedCeilingBenchmark.MeasureAsync): each boundary (the end of the warm-up and
    of each window after it) moves to the first answer at or after it, and a rate is the answers
    after one boundary answer up to and including the next, over the time between the two. A
    load's own requests/s (answers over wrk's whole duration) also counts the start, when the
    stages are still filling and no caption has ended yet.

    answer_s: the answers' times in seconds since the load started, in order. None when fewer than
    two boundaries have an answer at or after them."""
    boundaries: list[int] = []
    k = 0
    while (index := bisect.bisect_left(answer_s, warm_up_s + k * window_s)) < len(answer_s):
        if not boundaries or index != boundaries[-1]:
            boundaries.append(index)
        k += 1
    if len(boundaries) < 2:
        return None

    def rate(a: int, b: int) -> float:
        return (b - a) / (answer_s[b] - answer_s[a])

    first, last = boundaries[0], boundaries[-1]
    return {"warm_up_s": warm_up_s, "window_s": window_s, "answers": last - first, "span_s": answer_s[last] - answer_s[first],
            "images_per_s": rate(first, last), "window_rates": [rate(a, b) for a, b in zip(boundaries, boundaries[1:])]}


def run_wrk(port: int, mode: str, concurrency: int, duration_s: float, image_list: Path,
            texts_file: Path | None = None, ntexts: int = 0, limit_total: int = 0, query: str = "",
            timeout_s: float = 30, allow_no_answer: bool = False, span: tuple[float, float] | None = None,
            latencies: bool = False) -> dict:
    """query: a query string for every request ("maxTokens=16&beams=8"); timeout_s: wrk's per-request timeout;
    allow_no_answer: a run without one successful response is a result (the caller reports it), not a failure;
    span: (warm-up, window) in seconds, to add the rate over whole bursts after the warm-up as "span"
    (see burst_span; None in it when the load was too short); latencies: keep every answer's latency
    as "latencies_ms", which takes a wrk thread per client (fine for a few slow clients, not for a
    fast load on 2 cores)."""
    threads = concurrency if latencies else min(concurrency, 2)
    lua_mode = f"{mode}?{query}" if query else mode
    args = ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{duration_s}s", "--timeout", f"{timeout_s:g}s",
            "-s", str(HERE / "load.lua"), f"http://127.0.0.1:{port}", "--", lua_mode, str(image_list)]
    if mode == "score":
        args += [str(texts_file), str(ntexts)]
    limit_per_thread = -(-limit_total // threads) if limit_total else 0
    done_prefix = ""
    if limit_per_thread:
        done_prefix = f"/tmp/captionservice-bench-{os.getpid()}-{uuid.uuid4().hex}-done-"
    args += [str(limit_per_thread), done_prefix] if limit_per_thread else [str(limit_per_thread)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + duration_s + max(120, 2 * timeout_s)
    if limit_per_thread:
        # wrk waits out -d even when every thread has stopped; interrupt it (it then reports) once all are done.
        markers = [Path(f"{done_prefix}{i}") for i in range(1, threads + 1)]
        while proc.poll() is None and not all(m.exists() for m in markers) and time.monotonic() < deadline:
            time.sleep(0.1)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        for m in markers:
            m.unlink(missing_ok=True)
    try:
        stdout, stderr = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        raise BenchError(f"wrk did not finish: {' '.join(args)}")
    line = next((l for l in stdout.splitlines() if l.startswith("WRK_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({proc.returncode}): {stdout[-2000:]} {stderr[-2000:]}")
    r = json.loads(line[len("WRK_JSON "):])
    # One time per answer: too many to keep in the results.
    answer_s = r.pop("answer_s")
    if not latencies:
        r.pop("latencies_ms")
    elif r["latencies_ms"] is None:
        raise BenchError(f"wrk's threads did not each pair every answer with its request: {' '.join(args)}")
    r["first_answer_s"] = answer_s[0] if answer_s else None
    if span:
        r["span"] = burst_span(answer_s, *span)
    r["concurrency"] = concurrency
    r["wrk_threads"] = threads
    sock = sum(r["socket_errors"].values())
    r["errors"] = r["non_200"] + sock
    if r["ok"] == 0 and not allow_no_answer:
        raise BenchError(f"{mode} at concurrency {concurrency}: no successful response; first error: {r['first_error']}")
    # With a request limit, wrk's duration is up to the interrupt; throughput is still ok / duration.
    r["throughput_rps"] = r["ok"] / r["duration_s"] if r["duration_s"] > 0 else 0.0
    return r


def load_point(server: Server, mode: str, concurrency: int, duration_s: float, image_list: Path, **kw) -> dict:
    server.wait_idle()
    server.reset_peak_rss()
    before = server.batch_histogram()
    r = run_wrk(server.port, mode, concurrency, duration_s, image_list, **kw)
    after = server.batch_histogram()
    by_stage = {}
    for stage, (total, count) in after.items():
        b_total, b_count = before.get(stage, (0.0, 0.0))
        if count > b_count:
            by_stage[stage] = (total - b_total) / (count - b_count)
    if not by_stage:
        raise BenchError(f"/metrics has no captionservice batch-size histogram (captionservice_*batch*size*_sum/_count) "
                         f"that moved during a {mode} run")
    server.wait_idle()
    r["avg_batch_size_by_stage"] = by_stage
    # The stage that runs the request's own model work: the decoder loop for /caption, the fusion graph for /score.
    main_stage = "caption" if mode == "caption" else "score"
    r["avg_batch_size"] = by_stage.get(main_stage, by_stage.get("all"))
    if r["avg_batch_size"] is None:
        raise BenchError(f"no '{main_stage}' stage in the batch-size histogram: {sorted(by_stage)}")
    r["peak_rss_mb"] = server.peak_rss_mb()
    r["rss_mb"] = server.rss_mb()
    log(f"{mode} c={concurrency}: {r['throughput_rps']:.1f}/s p50 {r['latency_ms']['p50']:.1f} ms "
        f"p99 {r['latency_ms']['p99']:.1f} ms errors {r['errors']} avg batch {r['avg_batch_size']:.2f} {by_stage} "
        f"peak RSS {r['peak_rss_mb']:.0f} MB")
    return r


# ---------------------------------------------------------------- answers


def multipart(fields: list[tuple[str, str, bytes, str | None]]) -> tuple[bytes, str]:
    boundary = "----captionservice-bench-" + uuid.uuid4().hex
    out = bytearray()
    for name, filename, data, ctype in fields:
        out += f"--{boundary}\r\n".encode()
        disp = f'Content-Disposition: form-data; name="{name}"'
        if filename:
            disp += f'; filename="{filename}"'
        out += (disp + "\r\n").encode()
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def caption_of(server: Server, png: bytes, conn: http.client.HTTPConnection | None = None) -> dict:
    headers = {"Content-Type": "image/png"}
    if conn is None:
        status, _, body = server.request("POST", "/caption", png, headers)
    else:
        conn.request("POST", "/caption", body=png, headers=headers)
        resp = conn.getresponse()
        status, body = resp.status, resp.read()
    if status != 200:
        raise BenchError(f"/caption answered {status}: {body[:300]!r}")
    doc = json.loads(body)
    if not isinstance(doc.get("caption"), str):
        raise BenchError(f"/caption answer has no caption: {body[:300]!r}")
    return doc


def preflight(server: Server, png: bytes, texts: list[str]) -> dict:
    """One request of each kind, checked for shape, before any timing."""
    cap = caption_of(server, png)
    out = {"caption_example": cap}
    for n in (1, 8):
        body, ctype = multipart([("image", "world.png", png, "image/png")] +
                                [("text", "", t.encode(), None) for t in texts[:n]])
        status, _, resp = server.request("POST", "/score", body, {"Content-Type": ctype})
        if status != 200:
            raise BenchError(f"/score with {n} texts answered {status}: {resp[:300]!r}")
        doc = json.loads(resp)
        scores = doc.get("scores")
        if not isinstance(scores, list) or len(scores) != n:
            raise BenchError(f"/score with {n} texts did not return {n} scores: {resp[:300]!r}")
        out[f"score_example_{n}"] = doc
    status, _, resp = server.request("GET", "/model")
    out["model"] = json.loads(resp) if status == 200 else None
    return out


def service_captions(server: Server, images: list[tuple[str, Path]]) -> dict[str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        return {key: caption_of(server, path.read_bytes(), conn)["caption"].strip() for key, path in images}
    finally:
        conn.close()


# ---------------------------------------------------------------- parts


def shapeworld_images(root: Path) -> list[tuple[str, Path]]:
    out = []
    for set_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(set_dir.glob("world-*.png"), key=lambda p: int(re.search(r"\d+", p.name).group()))
        out += [(f"{set_dir.name}/{p.name}", p) for p in files]
    if not out:
        raise BenchError(f"no ShapeWorld images under {root}")
    return out


def shapeworld_texts(root: Path) -> list[str]:
    texts = []
    for f in sorted(root.glob("*/worlds.jsonl")):
        for line in f.read_text().splitlines():
            texts += json.loads(line)["captions"]
    if len(texts) < 8:
        raise BenchError(f"fewer than 8 ShapeWorld captions under {root}")
    return texts


def part_service(a, cfg, images, image_list, texts_file, texts) -> dict:
    env = {"CaptionService__Model__Path": a.model, "CaptionService__Model__IntraOpThreads": str(a.threads)}
    server = Server(a.server_cmd, a.port, env, a.work / "server-main.log", cfg["ready_timeout_s"])
    try:
        result = {"env": env, "startup_s": server.startup_s, "rss_after_start_mb": server.rss_mb()}
        result["preflight"] = preflight(server, images[0][1].read_bytes(), texts)
        log(f"ready in {server.startup_s:.1f} s; warm-up: {cfg['warmup_requests']} requests at concurrency 16")
        result["warmup"] = run_wrk(a.port, "caption", 16, cfg["rss_max_s"], image_list, limit_total=cfg["warmup_requests"])
        server.wait_idle()
        result["rss_after_warmup_mb"] = server.rss_mb()

        log(f"{cfg['rss_requests']} requests at concurrency 16 for the RSS check")
        rss_run = run_wrk(a.port, "caption", 16, cfg["rss_max_s"], image_list, limit_total=cfg["rss_requests"])
        if rss_run["requests"] < cfg["rss_requests"]:
            raise BenchError(f"RSS run stopped after {rss_run['requests']} < {cfg['rss_requests']} requests (raise rss_max_s)")
        server.wait_idle()
        result["rss_run"] = {k: rss_run[k] for k in ("requests", "ok", "errors", "first_error")}
        result["rss_after_requests_mb"] = server.rss_mb()
        result["rss_ratio"] = result["rss_after_requests_mb"] / result["rss_after_warmup_mb"]
        log(f"RSS {result['rss_after_warmup_mb']:.0f} MB after warm-up, {result['rss_after_requests_mb']:.0f} MB "
            f"after {rss_run['requests']} more requests ({result['rss_ratio']:.3f})")

        server.wait_idle()
        result["caption"] = [load_point(server, "caption", c, cfg["duration_s"], image_list)
                             for c in cfg["concurrency"]]
        result["score"] = [load_point(server, "score", 1, cfg["duration_s"], image_list, texts_file=texts_file, ntexts=n)
                           | {"texts": n} for n in (1, 8)]

        subset = images[:cfg["caption_images"]] if cfg["caption_images"] else images
        log(f"greedy captions of {len(subset)} ShapeWorld images")
        t0 = time.monotonic()
        result["captions"] = service_captions(server, subset)
        result["captions_s"] = time.monotonic() - t0
        if server.proc.poll() is not None:
            raise BenchError("server died during the run")
        return result
    finally:
        server.stop()


def part_sweep(a, cfg, images, image_list) -> dict:
    rows = []
    for mbs in cfg["sweep_batch"]:
        for delay in cfg["sweep_delay"]:
            for threads in cfg["sweep_threads"]:
                env = {"CaptionService__Model__Path": a.model, "CaptionService__Model__IntraOpThreads": str(threads),
                       "CaptionService__Batching__MaxBatchSize": str(mbs),
                       "CaptionService__Batching__MaxQueueDelay": delay}
                log(f"sweep MaxBatchSize={mbs} MaxQueueDelay={delay} threads={threads}")
                server = Server(a.server_cmd, a.port, env, a.work / f"server-sweep-b{mbs}-d{delay.replace(':', '')}-t{threads}.log", cfg["ready_timeout_s"])
                try:
                    caption_of(server, images[0][1].read_bytes())
                    run_wrk(a.port, "caption", 16, cfg["sweep_warmup_s"], image_list)
                    server.wait_idle()
                    for c in cfg["sweep_concurrency"]:
                        r = load_point(server, "caption", c, cfg["sweep_duration_s"], image_list)
                        rows.append({"max_batch_size": mbs, "max_queue_delay": delay, "intra_op_threads": threads,
                                     **{k: r[k] for k in ("concurrency", "throughput_rps", "latency_ms", "errors", "first_error",
                                                          "avg_batch_size", "avg_batch_size_by_stage", "peak_rss_mb", "ok")}})
                finally:
                    server.stop()
    return {"rows": rows}


def part_baseline(a, cfg, images, image_list) -> dict:
    """Issue 12's "default package: throughput and latency vs the last committed report, no worse
    than 0.95x", measured side by side instead of against figures from another day: this tree's
    server and the one built from the commit the last report came from, on this run's package,
    one after the other in each round, the first of the two alternating from round to round, so
    that a machine that drifts during the run weighs on both alike."""
    servers = {"this": a.server_cmd, "previous": a.baseline_cmd}
    env = {"CaptionService__Model__Path": a.model, "CaptionService__Model__IntraOpThreads": str(a.threads)}
    rounds = []
    for number in range(1, cfg["baseline_rounds"] + 1):
        measured = {}
        for name in (["this", "previous"] if number % 2 else ["previous", "this"]):
            log(f"side by side, round {number}: the {name} server")
            server = Server(servers[name], a.port, env, a.work / f"server-baseline-{name}-{number}.log", cfg["ready_timeout_s"])
            try:
                caption_of(server, images[0][1].read_bytes())
                run_wrk(a.port, "caption", 16, cfg["rss_max_s"], image_list, limit_total=cfg["baseline_warmup_requests"])
                measured[name] = [load_point(server, "caption", c, cfg["baseline_duration_s"], image_list)
                                  for c in cfg["baseline_concurrency"]]
            finally:
                server.stop()
        rounds.append(measured)
    return {"commit": a.baseline_commit, "env": env, "rounds": rounds}


PROFILES = {
    "full": dict(warmup_requests=1_000, rss_requests=10_000, rss_max_s=900, duration_s=15, concurrency=[1, 4, 16, 64],
                 sweep_batch=[1, 16, 32], sweep_delay=["00:00:00.002", "00:00:00.010"],
                 sweep_threads=[1, 2], sweep_concurrency=[16, 64], sweep_warmup_s=2, sweep_duration_s=6,
                 caption_images=None, ready_timeout_s=120,
                 baseline_rounds=6, baseline_warmup_requests=1_000, baseline_duration_s=10, baseline_concurrency=[1, 64]),
    "quick": dict(warmup_requests=50, rss_requests=100, rss_max_s=120, duration_s=3, concurrency=[1, 4, 16],
                  sweep_batch=[1, 8], sweep_delay=["00:00:00.002"], sweep_threads=[2], sweep_concurrency=[16],
                  sweep_warmup_s=1, sweep_duration_s=2, caption_images=30, ready_timeout_s=120,
                  baseline_rounds=1, baseline_warmup_requests=50, baseline_duration_s=2, baseline_concurrency=[1, 16]),
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server-cmd", required=True, help="command that starts the server, e.g. 'dotnet /x/CaptionService.Api.dll'")
    p.add_argument("--model", required=True, help="absolute path of the model package")
    p.add_argument("--threads", type=int, required=True, help="intra-op threads for the main run (the peer uses the same)")
    p.add_argument("--port", type=int, default=18080)
    p.add_argument("--data", type=Path, required=True, help="folder of ShapeWorld sets (<set>/world-*.png, <set>/worlds.jsonl)")
    p.add_argument("--profile", choices=sorted(PROFILES), default="full")
    p.add_argument("--parts", default="service,sweep")
    p.add_argument("--baseline-cmd", help="for the baseline part: the command that starts the server built from the "
                                          "last committed report's commit")
    p.add_argument("--baseline-commit", help="for the baseline part: that commit, recorded in the result")
    p.add_argument("--out", type=Path, required=True, help="folder for the result JSON files")
    p.add_argument("--work", type=Path, required=True, help="folder for server logs and request lists")
    a = p.parse_args()
    a.server_cmd = a.server_cmd.split()
    if "baseline" in a.parts.split(","):
        if not a.baseline_cmd or not a.baseline_commit:
            p.error("the baseline part needs --baseline-cmd and --baseline-commit")
        a.baseline_cmd = a.baseline_cmd.split()
    a.model = str(Path(a.model).resolve())
    a.out.mkdir(parents=True, exist_ok=True)
    a.work.mkdir(parents=True, exist_ok=True)
    cfg = PROFILES[a.profile]

    images = shapeworld_images(a.data)
    texts = shapeworld_texts(a.data)
    image_list = a.work / "images.txt"
    image_list.write_text("".join(f"{path}\n" for _, path in images))
    texts_file = a.work / "texts.txt"
    texts_file.write_text("".join(f"{t}\n" for t in texts))

    try:
        for part in a.parts.split(","):
            started = time.monotonic()
            if part == "service":
                result = part_service(a, cfg, images, image_list, texts_file, texts)
            elif part == "sweep":
                result = part_sweep(a, cfg, images, image_list)
            elif part == "baseline":
                result = part_baseline(a, cfg, images, image_list)
            else:
                raise BenchError(f"unknown part {part}")
            result.update(profile=a.profile, config=cfg, threads=a.threads, images=len(images),
                          duration_s=time.monotonic() - started)
            (a.out / f"{part}.json").write_text(json.dumps(result, indent=1) + "\n")
    except BenchError as e:
        print(f"service_bench: FAILED: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
