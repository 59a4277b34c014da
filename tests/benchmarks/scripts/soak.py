#!/usr/bin/python3
"""Soak: minutes of mixed load against a real published CaptionService, and whether it stays flat.

Load (closed-loop clients, one thread each, until the time is up):
  caption     raw image/png to /caption, the ShapeWorld scenes in rotation
  score       multipart image + 2 texts to /score
  hostile     the malformed-image fixtures and seeded random mutations (bit flips, extreme
              integers in the headers, truncations, byte runs, repeated slices) of scenes encoded
              as PNG, JPEG, GIF, BMP and WebP, rotating over /caption raw, /caption multipart and
              /score with maxTokens=1
  disconnect  a client that goes away mid-request: after part of a declared 1 MB body, after a
              whole request before the answer (a beams=4 caption, so the server is working on it),
              or with a TCP reset mid-body
  slow        bodies trickled in 256-byte pieces (about 1 KB/s, within Kestrel's minimum data
              rate), with Content-Length or chunked, to /caption and /score

Every --sample-seconds it records the server's RSS (VmRSS), thread count (/proc/PID/status),
open file descriptors (/proc/PID/fd), the managed heap (dotnet_total_memory_bytes from /metrics)
and whether /health/ready answers 200, into samples.csv. At the end: status codes per kind
(statuses.json), soak.svg (the four series over time, drawn here, no plotting library) and SOAK.md
with each series' drift after warm-up: the mean of the last quarter of the post-warm-up time over
the mean of its first quarter, goal at most +10%.

Exit status 1 when a goal is missed: any 5xx, an answer outside the kind's expected codes, the
server not ready at a sample or gone, or a drift over the goal. Stdlib only.
"""
from __future__ import annotations

import argparse
import collections
import datetime
import io
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import http.client
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from service_bench import BenchError, Server, multipart  # noqa: E402

DRIFT_GOAL = 0.10

# What each kind of client may get back. A 429/503 would mean the soak overloaded the server,
# which it is not meant to do: its clients are few and wait for each answer.
EXPECTED = {
    "caption": {200},
    "score": {200},
    "hostile": {200, 413, 415, 422},
    "slow": {200},
}

SERIES = [
    ("rss_mb", "RSS (MB)"),
    ("gc_heap_mb", "GC heap (MB)"),
    ("threads", "threads"),
    ("open_fds", "open file descriptors"),
]


def log(msg: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- inputs


def load_images(shapeworld: Path, limit: int) -> list[bytes]:
    scenes = sorted(shapeworld.glob("*/world-*.png"))[:limit]
    if not scenes:
        raise BenchError(f"no ShapeWorld scenes under {shapeworld}")
    return [p.read_bytes() for p in scenes]


def encodings(pngs: list[bytes]) -> list[tuple[str, bytes]]:
    """Each of a few scenes in the five accepted formats, the starting points of the mutations."""
    from PIL import Image  # python3-pil, as run.sh installs it

    out = []
    for i, png in enumerate(pngs[:4]):
        out.append(("png", png))
        image = Image.open(io.BytesIO(png)).convert("RGB")
        for fmt, kwargs in (("jpeg", {"quality": 60 + 30 * (i % 2)}), ("gif", {}), ("bmp", {}),
                            ("webp", {"lossless": i % 2 == 1})):
            buf = io.BytesIO()
            image.save(buf, format=fmt.upper(), **kwargs)
            out.append((fmt, buf.getvalue()))
    return out


EXTREMES = [0, 1, 1 << 15, (1 << 16) - 1, 1 << 30, (1 << 31) - 1, (1 << 32) - 1]


def mutate(rng: random.Random, data: bytes) -> tuple[bytes, list[str]]:
    """One to three seeded mutations, half of the positions in the first 128 bytes (the headers)."""
    b = bytearray(data)
    applied = []

    def pos() -> int:
        return rng.randrange(min(len(b), 128)) if rng.random() < 0.5 else rng.randrange(len(b))

    for _ in range(1 + rng.randrange(3)):
        if not b:
            break
        kind = rng.randrange(5)
        if kind == 0:
            for _ in range(1 + rng.randrange(8)):
                b[pos()] ^= 1 << rng.randrange(8)
            applied.append("bit flips")
        elif kind == 1:
            at = rng.randrange(min(len(b), 64))
            value = rng.choice(EXTREMES)
            size = rng.choice((2, 4))
            packed = struct.pack(rng.choice("<>") + ("H" if size == 2 else "I"), value & ((1 << (8 * size)) - 1))
            b[at:at + size] = packed[: max(0, len(b) - at)]
            applied.append(f"integer {value} at {at}")
        elif kind == 2:
            cut = max(1, pos())
            del b[cut:]
            applied.append(f"truncated to {cut}")
        elif kind == 3:
            at = pos()
            n = min(len(b) - at, 1 + rng.randrange(256))
            b[at:at + n] = bytes([rng.choice((0x00, 0xFF, rng.randrange(256)))]) * n
            applied.append(f"byte run at {at}")
        else:
            at = pos()
            piece = bytes(b[at:at + 1 + rng.randrange(64)])
            b[at:at + len(piece)] = piece * (2 + rng.randrange(15))
            applied.append(f"slice at {at} repeated")
    return bytes(b), applied


# ---------------------------------------------------------------- bookkeeping


class Tally:
    """Status codes per kind, unexpected answers (kept for the report) and a latency sum for captions."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.unexpected: list[str] = []
        self.unexpected_count = 0
        self.done = 0

    def record(self, kind: str, code: str, what: str = "") -> None:
        with self.lock:
            self.codes[kind][code] += 1
            self.done += 1
            bad = code.startswith("5") or (kind in EXPECTED and code.isdigit() and int(code) not in EXPECTED[kind]) \
                or (kind in EXPECTED and not code.isdigit())
            if bad:
                self.unexpected_count += 1
                if len(self.unexpected) < 50:
                    self.unexpected.append(f"{kind} {code} {what}".strip())

    def five_xx(self) -> int:
        with self.lock:
            return sum(n for c in self.codes.values() for code, n in c.items() if code.startswith("5"))


def post(port: int, path: str, body, headers: dict, timeout: float = 120, chunked: bool = False) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers=headers, encode_chunked=chunked)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# ---------------------------------------------------------------- clients


def caption_client(port: int, images: list[bytes], tally: Tally, stop: threading.Event, offset: int) -> None:
    i = offset
    while not stop.is_set():
        try:
            status, _ = post(port, "/caption", images[i % len(images)], {"Content-Type": "image/png"})
            tally.record("caption", str(status))
        except OSError as e:
            tally.record("caption", f"error:{type(e).__name__}")
        i += 1


def score_client(port: int, images: list[bytes], tally: Tally, stop: threading.Event, offset: int) -> None:
    i = offset
    while not stop.is_set():
        body, ctype = multipart([("image", "scene.png", images[i % len(images)], "image/png"),
                                 ("text", "", b"a red square .", None), ("text", "", b"two blue circles .", None)])
        try:
            status, _ = post(port, "/score", body, {"Content-Type": ctype})
            tally.record("score", str(status))
        except OSError as e:
            tally.record("score", f"error:{type(e).__name__}")
        i += 1


def hostile_client(port: int, fixtures: list[tuple[str, bytes]], bases: list[tuple[str, bytes]], seed: int,
                   tally: Tally, stop: threading.Event, counter: collections.Counter) -> None:
    rng = random.Random(seed)
    i = 0
    while not stop.is_set():
        if i % 10 == 0 and fixtures:
            name, data = fixtures[(i // 10) % len(fixtures)]
            fmt, what = name.rsplit(".", 1)[-1], f"fixture {name}"
            counter["fixtures"] += 1
        else:
            fmt, base = bases[rng.randrange(len(bases))]
            data, applied = mutate(rng, base)
            what = f"seed {seed} case {i}: {fmt} after {'; '.join(applied)}"
            counter["mutations"] += 1
        mime = {"jpg": "image/jpeg"}.get(fmt, f"image/{fmt}")
        route = i % 3
        try:
            if route == 0:
                status, _ = post(port, "/caption?maxTokens=1", data, {"Content-Type": mime}, timeout=60)
            else:
                fields = [("image", f"case.{fmt}", data, mime)]
                if route == 2:
                    fields.append(("text", "", b"a red square .", None))
                body, ctype = multipart(fields)
                status, _ = post(port, "/caption?maxTokens=1" if route == 1 else "/score", body,
                                 {"Content-Type": ctype}, timeout=60)
            tally.record("hostile", str(status), what)
        except OSError as e:
            tally.record("hostile", f"error:{type(e).__name__}", what)
        i += 1


def disconnect_client(port: int, images: list[bytes], tally: Tally, stop: threading.Event) -> None:
    """Requests the client abandons; the server must not keep anything for them."""
    i = 0
    while not stop.is_set():
        image = images[i % len(images)]
        variant = i % 3
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            try:
                if variant == 0:
                    # Declares 1 MB, sends the image, goes away while the server waits for the rest.
                    sock.sendall(b"POST /caption HTTP/1.1\r\nHost: soak\r\nContent-Type: image/png\r\n"
                                 b"Content-Length: 1048576\r\n\r\n" + image)
                    time.sleep(0.2)
                    tally.record("disconnect", "mid-body close")
                elif variant == 1:
                    # A whole beams=4 request, gone before the answer.
                    sock.sendall(b"POST /caption?beams=4 HTTP/1.1\r\nHost: soak\r\nContent-Type: image/png\r\n"
                                 + f"Content-Length: {len(image)}\r\n\r\n".encode() + image)
                    time.sleep(0.05)
                    tally.record("disconnect", "before-answer close")
                else:
                    # A reset (SO_LINGER 0) in the middle of a multipart body.
                    body, ctype = multipart([("image", "scene.png", image, "image/png"), ("text", "", b"a square .", None)])
                    sock.sendall(f"POST /score HTTP/1.1\r\nHost: soak\r\nContent-Type: {ctype}\r\n"
                                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body[: len(body) // 2])
                    time.sleep(0.1)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    tally.record("disconnect", "mid-body reset")
            finally:
                sock.close()
        except OSError as e:
            tally.record("disconnect", f"error:{type(e).__name__}")
        i += 1
        stop.wait(0.2)


def slow_client(port: int, images: list[bytes], tally: Tally, stop: threading.Event) -> None:
    i = 0
    while not stop.is_set():
        image = images[i % len(images)]
        chunked = i % 2 == 1

        def trickle(data: bytes):
            for at in range(0, len(data), 256):
                time.sleep(0.25)
                yield data[at:at + 256]

        try:
            if i % 4 < 2:
                headers = {"Content-Type": "image/png"}
                if not chunked:
                    headers["Content-Length"] = str(len(image))
                status, _ = post(port, "/caption", trickle(image), headers, chunked=chunked)
            else:
                body, ctype = multipart([("image", "scene.png", image, "image/png"), ("text", "", b"a square .", None)])
                headers = {"Content-Type": ctype}
                if not chunked:
                    headers["Content-Length"] = str(len(body))
                status, _ = post(port, "/score", trickle(body), headers, chunked=chunked)
            tally.record("slow", str(status), "chunked" if chunked else "content-length")
        except OSError as e:
            tally.record("slow", f"error:{type(e).__name__}")
        i += 1


# ---------------------------------------------------------------- sampling


def gc_heap_bytes(server: Server) -> float | None:
    status, _, body = server.request("GET", "/metrics", timeout=10)
    if status != 200:
        return None
    m = re.search(r"^dotnet_total_memory_bytes\s+([0-9.eE+-]+)$", body.decode(), re.M)
    return float(m.group(1)) if m else None


def proc_status(pid: int) -> dict[str, int]:
    text = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"^VmRSS:\s+(\d+) kB", text, re.M).group(1))
    threads = int(re.search(r"^Threads:\s+(\d+)", text, re.M).group(1))
    return {"rss_kb": rss, "threads": threads, "open_fds": len(os.listdir(f"/proc/{pid}/fd"))}


def sample(server: Server, t0: float, tally: Tally) -> dict:
    row = {"t_s": round(time.monotonic() - t0, 1)}
    st = proc_status(server.proc.pid)
    row["rss_mb"] = round(st["rss_kb"] / 1024, 1)
    row["threads"] = st["threads"]
    row["open_fds"] = st["open_fds"]
    try:
        heap = gc_heap_bytes(server)
        row["gc_heap_mb"] = round(heap / 2**20, 1) if heap is not None else ""
        ready, _, _ = server.request("GET", "/health/ready", timeout=10)
    except OSError:
        row["gc_heap_mb"], ready = "", 0
    row["ready"] = 1 if ready == 200 else 0
    with tally.lock:
        row["requests"] = tally.done
    row["five_xx"] = tally.five_xx()
    return row


# ---------------------------------------------------------------- report


def drift(rows: list[dict], key: str, warmup_s: float, end_s: float) -> dict:
    span = (end_s - warmup_s) / 4
    first = [r[key] for r in rows if warmup_s <= r["t_s"] < warmup_s + span and r[key] != ""]
    last = [r[key] for r in rows if r["t_s"] >= end_s - span and r[key] != ""]
    if not first or not last:
        return {"first": None, "last": None, "drift": None, "met": False}
    a, b = sum(first) / len(first), sum(last) / len(last)
    d = (b - a) / a if a else 0.0
    return {"first": a, "last": b, "drift": d, "met": d <= DRIFT_GOAL, "n_first": len(first), "n_last": len(last)}


def svg_plot(rows: list[dict], warmup_s: float, end_s: float, path: Path) -> None:
    """Four stacked line charts (one per series) over minutes; warm-up shaded, quarters marked."""
    width, panel_h, left, right, top = 760, 150, 70, 20, 30
    height = top + len(SERIES) * (panel_h + 40) + 10
    span = (end_s - warmup_s) / 4
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{left}" y="18" font-size="13">CaptionService soak: {end_s / 60:.1f} min; grey: warm-up; '
           'blue bands: first and last quarter after it</text>']
    plot_w = width - left - right
    for i, (key, label) in enumerate(SERIES):
        y0 = top + i * (panel_h + 40) + 10
        pts = [(r["t_s"], r[key]) for r in rows if r[key] != ""]
        if not pts:
            continue
        lo, hi = min(v for _, v in pts), max(v for _, v in pts)
        lo, hi = (lo * 0.95, hi * 1.05) if hi > lo else (lo * 0.9 - 1, hi * 1.1 + 1)

        def x(t: float) -> float:
            return left + plot_w * t / end_s

        def y(v: float) -> float:
            return y0 + panel_h - panel_h * (v - lo) / (hi - lo)

        out.append(f'<rect x="{left}" y="{y0}" width="{plot_w}" height="{panel_h}" fill="none" stroke="#999"/>')
        out.append(f'<rect x="{left}" y="{y0}" width="{x(warmup_s) - left:.1f}" height="{panel_h}" fill="#eee"/>')
        for a in (warmup_s, end_s - span):
            out.append(f'<rect x="{x(a):.1f}" y="{y0}" width="{x(a + span) - x(a):.1f}" height="{panel_h}" fill="#e3eefa"/>')
        out.append('<polyline fill="none" stroke="#c0392b" stroke-width="1.5" points="'
                   + " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in pts) + '"/>')
        out.append(f'<text x="{left}" y="{y0 - 4}">{label}</text>')
        for v in (lo, (lo + hi) / 2, hi):
            out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.0f}</text>')
        for m in range(0, int(end_s // 60) + 1, max(1, int(end_s // 60) // 10 or 1)):
            out.append(f'<text x="{x(m * 60):.1f}" y="{y0 + panel_h + 14}" text-anchor="middle">{m} min</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def malloc_env() -> str:
    """The glibc allocator settings the server inherits (docker/ and deploy/ set MALLOC_MMAP_THRESHOLD_)."""
    return ", ".join(f"`{k}={v}`" for k, v in sorted(os.environ.items()) if k.startswith("MALLOC_"))


def write_report(out: Path, args, info: dict, rows: list[dict], tally: Tally, hostile: collections.Counter,
                 warmup_s: float, end_s: float, problems: list[str]) -> bool:
    drifts = {key: drift(rows, key, warmup_s, end_s) for key, _ in SERIES}
    five = tally.five_xx()
    not_ready = sum(1 for r in rows if r["ready"] == 0)
    met = five == 0 and tally.unexpected_count == 0 and not_ready == 0 and not problems \
        and all(d["met"] for d in drifts.values())
    lines = [
        "# Soak report",
        "",
        f"{'All goals met.' if met else '**Goals missed** (see below).'} "
        f"{end_s / 60:.1f} minutes of mixed load against the published server, "
        f"commit `{info['commit']}`{' (with uncommitted changes)' if info['dirty'] else ''}, "
        f"{info['cores']} cores, load average {info['loadavg']} at the start and "
        f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])} at the end, started {info['started']}. "
        f"Server allocator environment: {malloc_env() or 'none (glibc defaults)'}.",
        "",
        f"Command: `tests/benchmarks/soak.sh --minutes {args.minutes:g}"
        + (f" --warmup-minutes {args.warmup_minutes:g}" if args.warmup_minutes is not None else "") + "`. "
        f"Clients: {args.caption_clients} caption, {args.score_clients} score, {args.hostile_clients} hostile, "
        f"1 disconnecting, 1 slow-body. Samples every {args.sample_seconds:g} s ([samples.csv](samples.csv)).",
        "",
        "![RSS, GC heap, threads and open file descriptors over time](soak.svg)",
        "",
        f"## Drift after warm-up ({warmup_s / 60:.1f} min)",
        "",
        "Mean of the last quarter of the time after warm-up over the mean of its first quarter; goal at most "
        f"+{DRIFT_GOAL:.0%} (a fall meets it).",
        "",
        "| series | first quarter | last quarter | drift | goal met |",
        "|---|---:|---:|---:|---|",
    ]
    for key, label in SERIES:
        d = drifts[key]
        if d["drift"] is None:
            lines.append(f"| {label} | - | - | - | no samples |")
        else:
            lines.append(f"| {label} | {d['first']:.1f} | {d['last']:.1f} | {d['drift']:+.1%} | {'yes' if d['met'] else '**no**'} |")
    lines += [
        "",
        "## Answers",
        "",
        f"{tally.done} requests; **{five} answered 5xx**; {tally.unexpected_count} outside their kind's expected codes; "
        f"/health/ready not 200 at {not_ready} of {len(rows)} samples. Hostile inputs: {hostile['mutations']} random "
        f"mutations and {hostile['fixtures']} sends of the {info['fixtures']} fixtures in tests/fixtures/malformed-images.",
        "",
        "| kind | expected | answers |",
        "|---|---|---|",
    ]
    for kind in ("caption", "score", "hostile", "slow", "disconnect"):
        codes = tally.codes.get(kind, {})
        expected = ", ".join(str(c) for c in sorted(EXPECTED[kind])) if kind in EXPECTED else "none (the client leaves)"
        lines.append(f"| {kind} | {expected} | " + ", ".join(f"{c} ×{n}" for c, n in sorted(codes.items())) + " |")
    if tally.unexpected or problems:
        lines += ["", "## Problems", ""] + [f"- {p}" for p in problems] + [f"- {u}" for u in tally.unexpected]
    (out / "SOAK.md").write_text("\n".join(lines) + "\n")
    (out / "statuses.json").write_text(json.dumps({
        "codes": {k: dict(v) for k, v in tally.codes.items()}, "five_xx": five, "unexpected": tally.unexpected,
        "hostile": dict(hostile), "drift": drifts, "warmup_s": warmup_s, "end_s": end_s, "goals_met": met,
        "system": info}, indent=2))
    return met


# ---------------------------------------------------------------- main


def system_info(root: Path, fixtures: int) -> dict:
    def git(*a: str) -> str:
        return subprocess.run(["git", "-C", str(root), *a], capture_output=True, text=True).stdout.strip()

    return {"commit": git("rev-parse", "--short", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--", "src", "tests/benchmarks/scripts", "tests/benchmarks/soak.sh")),
            "cores": os.cpu_count(), "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
            "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "fixtures": fixtures}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server-cmd", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--port", type=int, default=18081)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--data", type=Path, required=True, help="ShapeWorld sets (*/world-*.png)")
    ap.add_argument("--fixtures", type=Path, required=True, help="tests/fixtures/malformed-images")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--warmup-minutes", type=float, default=None, help="default: a sixth of --minutes")
    ap.add_argument("--sample-seconds", type=float, default=5)
    ap.add_argument("--caption-clients", type=int, default=2)
    ap.add_argument("--score-clients", type=int, default=1)
    ap.add_argument("--hostile-clients", type=int, default=2)
    ap.add_argument("--seed", type=int, default=15002)
    args = ap.parse_args()

    end_s = args.minutes * 60
    warmup_s = (args.warmup_minutes if args.warmup_minutes is not None else args.minutes / 6) * 60
    if not 0 <= warmup_s < end_s:
        raise BenchError("--warmup-minutes must be less than --minutes")
    args.out.mkdir(parents=True, exist_ok=True)
    images = load_images(args.data, 200)
    fixtures = sorted((p.name, p.read_bytes()) for p in args.fixtures.iterdir() if p.suffix != ".md")
    bases = encodings(images)
    info = system_info(HERE.parent.parent.parent, len(fixtures))

    server = Server([args.server_cmd], args.port,
                    {"CaptionService__Model__Path": args.model, "CaptionService__Model__IntraOpThreads": str(args.threads)},
                    args.out / "server.log", ready_timeout_s=300)
    tally, hostile, stop = Tally(), collections.Counter(), threading.Event()
    rows: list[dict] = []
    problems: list[str] = []
    clients = (
        [threading.Thread(target=caption_client, args=(args.port, images, tally, stop, 37 * k)) for k in range(args.caption_clients)]
        + [threading.Thread(target=score_client, args=(args.port, images, tally, stop, 53 * k)) for k in range(args.score_clients)]
        + [threading.Thread(target=hostile_client, args=(args.port, fixtures, bases, args.seed + k, tally, stop, hostile))
           for k in range(args.hostile_clients)]
        + [threading.Thread(target=disconnect_client, args=(args.port, images, tally, stop)),
           threading.Thread(target=slow_client, args=(args.port, images, tally, stop))])
    fields = ["t_s", "rss_mb", "gc_heap_mb", "threads", "open_fds", "ready", "requests", "five_xx"]
    try:
        log(f"server ready in {server.startup_s:.1f} s (pid {server.proc.pid}); {args.minutes:g} min of load, "
            f"warm-up {warmup_s / 60:.1f} min, {len(clients)} clients")
        t0 = time.monotonic()
        for c in clients:
            c.daemon = True
            c.start()
        with open(args.out / "samples.csv", "w") as csv:
            csv.write(",".join(fields) + "\n")
            next_at = 0.0
            while time.monotonic() - t0 < end_s:
                if server.proc.poll() is not None:
                    problems.append(f"the server exited with {server.proc.returncode} at {time.monotonic() - t0:.0f} s")
                    break
                row = sample(server, t0, tally)
                rows.append(row)
                csv.write(",".join(str(row[f]) for f in fields) + "\n")
                csv.flush()
                if len(rows) % max(1, int(60 / args.sample_seconds)) == 0:
                    log(f"{row['t_s'] / 60:.1f} min: RSS {row['rss_mb']} MB, heap {row['gc_heap_mb']} MB, "
                        f"{row['threads']} threads, {row['open_fds']} fds, {row['requests']} requests, {row['five_xx']} 5xx")
                next_at += args.sample_seconds
                time.sleep(max(0.0, next_at - (time.monotonic() - t0)))
        stop.set()
        for c in clients:
            c.join(timeout=150)
        if server.proc.poll() is None:
            status, _, _ = server.request("GET", "/health/ready", timeout=10)
            if status != 200:
                problems.append(f"/health/ready answered {status} after the load")
            status, _, _ = server.request("POST", "/caption", images[0], {"Content-Type": "image/png"}, timeout=60)
            if status != 200:
                problems.append(f"a caption after the load answered {status}")
    finally:
        stop.set()
        server.stop()
    end_s = min(end_s, rows[-1]["t_s"]) if rows else end_s
    svg_plot(rows, warmup_s, end_s, args.out / "soak.svg")
    met = write_report(args.out, args, info, rows, tally, hostile, warmup_s, end_s, problems)
    log(f"report in {args.out / 'SOAK.md'}: goals {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        log(f"FAILED: {e}")
        sys.exit(1)
