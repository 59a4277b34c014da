"""Upload flood (issue 15, item 1): N clients each send a whole 20 MB image at once, and what the
server does with it.

Every client opens its own connection, sends its request line and headers (no Expect: 100-continue,
the worst case for the server) and then its body in 256 KB writes, while reading the answer at the
same time; a client that gets its answer stops sending. Half the clients post a raw image/png body
to /caption, half a multipart/form-data body (field 'image') to /caption. The image is a PNG of
random noise just under MaxImageBytes (20 MiB), so each one that is admitted is also decoded.

Reported (JSON on stdout, a summary on stderr): the server's peak RSS (VmHWM, reset just before
the flood) against its RSS before, the answer status counts, how many connections ended without
an answer (reset or closed), the time to the answer per status (median and max, as the client saw
it from connecting and as the server's request log says), whether the refusals carried
Retry-After, how much of its body a client had sent when its answer came, and /health/ready polled
every 0.2 s during the flood.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import random
import re
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from service_bench import Server, multipart  # noqa: E402

CHUNK = 256 * 1024


def noise_png(target_bytes: int, seed: int) -> bytes:
    """An RGB PNG of random noise whose encoding is just under target_bytes (noise does not compress)."""
    from PIL import Image  # python3-pil

    side = int((target_bytes * 0.98 / 3) ** 0.5)
    rng = random.Random(seed)
    img = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=1)
    data = out.getvalue()
    if len(data) > target_bytes:
        raise SystemExit(f"the noise PNG is {len(data)} bytes, over {target_bytes}")
    return data


class Outcome:
    def __init__(self) -> None:
        self.status: int | None = None
        self.retry_after: str | None = None
        self.seconds: float | None = None
        self.sent_bytes = 0
        self.error: str | None = None


def one_upload(port: int, path: str, body: bytes, ctype: str, start: threading.Event, out: Outcome) -> None:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    answered = threading.Event()
    start.wait()
    began = time.monotonic()
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=300)
    except OSError as e:
        out.error = f"connect: {type(e).__name__}"
        return

    def send() -> None:
        try:
            sock.sendall(head)
            view = memoryview(body)
            for offset in range(0, len(body), CHUNK):
                if answered.is_set():
                    return
                sock.sendall(view[offset:offset + CHUNK])
                out.sent_bytes = offset + min(CHUNK, len(body) - offset)
        except OSError:
            pass  # the reader below decides whether an answer came

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    received = b""
    try:
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    except OSError as e:
        out.error = type(e).__name__
    if b"\r\n\r\n" in received:
        header_block = received.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        out.status = int(header_block[0].split()[1])
        out.seconds = time.monotonic() - began
        for line in header_block[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "retry-after":
                out.retry_after = value.strip()
        out.error = None
    elif out.error is None:
        out.error = "closed without an answer"
    answered.set()
    try:
        sock.close()
    except OSError:
        pass
    sender.join(timeout=5)


def poll_ready(server: Server, stop: threading.Event, statuses: collections.Counter) -> None:
    while not stop.is_set():
        try:
            status, _, _ = server.request("GET", "/health/ready", timeout=5)
            statuses[str(status)] += 1
        except OSError as e:
            statuses[type(e).__name__] += 1
        stop.wait(0.2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server-cmd", required=True, help="the published CaptionService.Api executable")
    ap.add_argument("--model", required=True)
    ap.add_argument("--port", type=int, default=18082)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--image-bytes", type=int, default=20 * 1024 * 1024, help="the PNG stays just under this")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log", default="/tmp/upload_flood_server.log")
    ap.add_argument("--label", default="")
    args = ap.parse_args()

    png = noise_png(args.image_bytes, seed=15)
    server = Server([args.server_cmd], args.port,
                    {"CaptionService__Model__Path": args.model, "CaptionService__Model__IntraOpThreads": str(args.threads)},
                    Path(args.log), ready_timeout_s=180)
    try:
        rss_before = server.rss_mb()
        server.reset_peak_rss()
        start = threading.Event()
        outcomes = [Outcome() for _ in range(args.clients)]
        raw = ("/caption", png, "image/png")
        form = ("/caption", *multipart([("image", "noise.png", png, "image/png")]))  # one body, shared by the multipart clients
        workers = [threading.Thread(target=one_upload, args=(args.port, *(raw if i % 2 == 0 else form), start, o), daemon=True)
                   for i, o in enumerate(outcomes)]
        for w in workers:
            w.start()
        ready = collections.Counter()
        stop_polling = threading.Event()
        poller = threading.Thread(target=poll_ready, args=(server, stop_polling, ready), daemon=True)
        poller.start()
        began = time.monotonic()
        start.set()
        for w in workers:
            w.join(timeout=600)
        flood_s = time.monotonic() - began
        stop_polling.set()
        poller.join()
        peak = server.peak_rss_mb()
        rss_after = server.rss_mb()
        final_ready, _, _ = server.request("GET", "/health/ready", timeout=10)
        alive = server.proc.poll() is None
    finally:
        server.stop()

    # The server's own time per answer (its request log), apart from the client's: on a small
    # machine 200 sending threads delay when a request even reaches the server.
    server_ms: dict[str, list[float]] = collections.defaultdict(list)
    for m in re.finditer(r"HTTP POST /caption \S+ responded (\d+) in ([0-9.]+) ms", Path(args.log).read_text(errors="replace")):
        server_ms[m.group(1)].append(float(m.group(2)))

    statuses = collections.Counter(str(o.status) if o.status is not None else "no answer" for o in outcomes)
    errors = collections.Counter(o.error for o in outcomes if o.status is None)
    by_status: dict[str, dict] = {}
    for status in sorted({o.status for o in outcomes if o.status is not None}):
        group = [o for o in outcomes if o.status == status]
        secs = [o.seconds for o in group]
        by_status[str(status)] = {
            "count": len(group),
            "median_s": round(statistics.median(secs), 3),
            "max_s": round(max(secs), 3),
            "with_retry_after": sum(1 for o in group if o.retry_after),
            "median_body_bytes_sent_before_answer": int(statistics.median(o.sent_bytes for o in group)),
            "server_median_ms": round(statistics.median(server_ms[str(status)]), 1) if server_ms[str(status)] else None,
            "server_max_ms": round(max(server_ms[str(status)]), 1) if server_ms[str(status)] else None,
        }
    report = {
        "label": args.label,
        "clients": args.clients,
        "image_bytes": len(png),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak, 1),
        "rss_after_mb": round(rss_after, 1),
        "flood_seconds": round(flood_s, 1),
        "statuses": dict(statuses),
        "no_answer": dict(errors),
        "by_status": by_status,
        "ready_polls_during_flood": dict(ready),
        "ready_after": final_ready,
        "server_alive": alive,
    }
    json.dump(report, sys.stdout, indent=2)
    print()
    print(f"[flood {args.label}] peak RSS {peak:.0f} MB (before {rss_before:.0f} MB); answers {dict(statuses)}; "
          f"no answer {sum(errors.values())}; /health/ready during flood {dict(ready)}; after {final_ready}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
