"""Measures the server's trust signals on the ShapeWorld development half (issue 14).

  PYTHONPATH=src /usr/bin/python3 -m training scenes --count 2000 --out .cache/calibration-scenes
  PYTHONPATH=src /usr/bin/python3 -m training trust --server http://localhost:8080 --out runs/trust.json

`scenes` renders training-like scenes with the project's own generator (never the published
worlds): the images the server's `calibrate-scenes` command turns into the package's
out-of-distribution statistics.

`trust` drives a running server (the numbers come from its ONNX graphs, as users get them):
- caption truth: every development image is captioned greedily and with `verify=true`, and each
  caption is judged against its world model by the project's truth function;
- the out-of-distribution signal: `imageDistance` of every development scene against that of
  generated non-scene images (gradients, noise, rendered text, plots, shapes on white, photos of
  nothing), summarised as ROC AUC, with the share of each kind the package's threshold flags.
"""

from __future__ import annotations

import io
import json
import math
import random
import urllib.request
import uuid
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .language import truth
from .render import render
from .world import sample_world, world_from_json

SIZE = 100
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
NON_SCENE_KINDS = ("gradient", "noise", "text", "plot", "shapes_on_white", "blank_photo")
WORDS = "the quick brown fox jumps over a lazy dog invoice total receipt meeting notes chapter one".split()


# --- images -------------------------------------------------------------------------------------

def calibration_scenes(count: int, seed: int, out: Path) -> None:
    """Training-like scenes (1 to 15 shapes, as the default config's bank) as PNGs."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i in range(count):
        n = rng.randint(1, 15)
        world = sample_world(rng, min_entities=n, max_entities=n)
        Image.fromarray(render(world, size=SIZE)).save(out / f"scene-{i:05d}.png")


def _gradient(rng: random.Random) -> Image.Image:
    a, b = np.array([rng.randrange(256) for _ in range(3)]), np.array([rng.randrange(256) for _ in range(3)])
    angle = rng.uniform(0, 2 * math.pi)
    y, x = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)
    t = (np.cos(angle) * x + np.sin(angle) * y)
    t = (t - t.min()) / max(t.max() - t.min(), 1e-6)
    return Image.fromarray((a + (b - a) * t[..., None]).astype(np.uint8))


def _noise(rng: random.Random) -> Image.Image:
    gen = np.random.default_rng(rng.randrange(2**32))
    if rng.random() < 0.5:
        pixels = gen.integers(0, 256, (SIZE, SIZE, 3))
    else:
        pixels = np.clip(gen.normal(rng.uniform(40, 215), rng.uniform(10, 60), (SIZE, SIZE, 1)), 0, 255).repeat(3, axis=2)
    return Image.fromarray(pixels.astype(np.uint8))


def _text(rng: random.Random) -> Image.Image:
    light = rng.random() < 0.7
    image = Image.new("RGB", (SIZE, SIZE), (255, 255, 255) if light else (20, 20, 30))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), rng.randint(9, 16))
    y = rng.randint(0, 8)
    while y < SIZE:
        draw.text((rng.randint(0, 6), y), " ".join(rng.choice(WORDS) for _ in range(4)), fill=(0, 0, 0) if light else (230, 230, 230), font=font)
        y += font.size + rng.randint(2, 6)
    return image


def _plot(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.line([(10, 90), (95, 90)], fill=(0, 0, 0))
    draw.line([(10, 5), (10, 90)], fill=(0, 0, 0))
    for tick in range(10, 96, 17):
        draw.line([(tick, 90), (tick, 93)], fill=(0, 0, 0))
    colours = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]
    for series in range(rng.randint(1, 3)):
        if rng.random() < 0.5:
            points, value = [], rng.uniform(20, 80)
            for x in range(12, 96, 6):
                value = min(88, max(6, value + rng.uniform(-12, 12)))
                points.append((x, value))
            draw.line(points, fill=colours[series], width=2)
        else:
            for x in range(14 + 4 * series, 92, 14):
                draw.rectangle([x, rng.uniform(15, 85), x + 4, 89], fill=colours[series])
    return image


def _shapes_on_white(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(1, 6)):
        x, y, r = rng.randint(10, 90), rng.randint(10, 90), rng.randint(5, 15)
        fill = tuple(rng.randrange(200) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)
        else:
            draw.rectangle([x - r, y - r, x + r, y + r], fill=fill)
    return image


def _blank_photo(rng: random.Random) -> Image.Image:
    """A photo of nothing: a wall, sky or floor: smooth shading with sensor noise and blur."""
    gen = np.random.default_rng(rng.randrange(2**32))
    base = np.array([rng.uniform(60, 230) for _ in range(3)])
    coarse = gen.normal(0, 18, (5, 5, 3))
    shading = np.asarray(Image.fromarray(np.uint8(np.clip(128 + coarse, 0, 255))).resize((SIZE, SIZE), Image.BICUBIC), float) - 128
    pixels = base + shading + gen.normal(0, 4, (SIZE, SIZE, 3))
    return Image.fromarray(np.uint8(np.clip(pixels, 0, 255))).filter(ImageFilter.GaussianBlur(0.7))


MAKERS = {"gradient": _gradient, "noise": _noise, "text": _text, "plot": _plot,
          "shapes_on_white": _shapes_on_white, "blank_photo": _blank_photo}


def non_scene_images(per_kind: int, seed: int) -> list[tuple[str, bytes]]:
    """(kind, PNG bytes) for `per_kind` images of each kind in NON_SCENE_KINDS."""
    rng = random.Random(seed)
    images = []
    for kind in NON_SCENE_KINDS:
        for _ in range(per_kind):
            buffer = io.BytesIO()
            MAKERS[kind](rng).save(buffer, format="PNG")
            images.append((kind, buffer.getvalue()))
    return images


# --- the server ----------------------------------------------------------------------------------

def post_caption(server: str, png: bytes, query: str = "") -> dict:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"image.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{server}/caption{query}", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def roc_auc(negatives: list[float], positives: list[float]) -> float:
    """P(a positive scores above a negative), ties counted half (Mann-Whitney U)."""
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def rerank_truth(rows: list[dict], weight: float) -> float:
    """Caption truth if the verified candidates were ranked as the server ranks them (CaptionVerification.cs:
    the fusion score's log-odds + weight * mean token log-prob), with this language weight."""
    true = 0
    for row in rows:
        def key(a):
            tokens = len(a["caption"].split()) + 1  # one token per word, plus the end token
            p = min(max(a["fusionScore"], 5e-8), 1 - 5e-8)
            return math.log(p / (1 - p)) + weight * a["logProb"] / tokens
        best = max((a for a in row["alternatives"] if a.get("fusionScore") is not None), key=key)
        true += row["truths"][best["caption"]] is True
    return true / len(rows)


def measure(server: str, data_dir: Path, out: Path, beams: int, per_kind: int, seed: int, log=print) -> dict:
    scenes, judged = [], []
    for set_dir in sorted(p for p in data_dir.iterdir() if (p / "worlds.jsonl").is_file()):
        for line in (set_dir / "worlds.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            world = world_from_json(record["world_model"])
            png = (set_dir / record["image"]).read_bytes()
            greedy = post_caption(server, png)
            verified = post_caption(server, png, f"?verify=true&beams={beams}")
            truths = {a["caption"]: truth(world, a["caption"]) for a in verified["alternatives"]}
            row = {
                "image": f"{set_dir.name}/{record['image']}",
                "greedy": greedy["caption"], "greedy_true": truth(world, greedy["caption"]),
                "verified": verified["caption"], "verified_true": truths[verified["caption"]],
                "verification": verified.get("verification"),
                "alternatives": verified["alternatives"], "truths": truths,
                "imageDistance": greedy.get("imageDistance"),
                "warnings": sorted({w["code"] for w in greedy["warnings"]} | {w["code"] for w in verified["warnings"]}),
            }
            scenes.append(row)
        log(f"{set_dir.name}: {len(scenes)} images so far")
    judged = [s for s in scenes if s["greedy_true"] is not None and s["verified_true"] is not None]

    non_scenes = []
    for kind, png in non_scene_images(per_kind, seed):
        answer = post_caption(server, png)
        non_scenes.append({"kind": kind, "caption": answer["caption"], "imageDistance": answer.get("imageDistance"),
                           "warnings": [w["code"] for w in answer["warnings"]]})

    scene_distances = [s["imageDistance"]["distance"] for s in scenes]
    other_distances = [n["imageDistance"]["distance"] for n in non_scenes]
    threshold = scenes[0]["imageDistance"]["threshold"]
    flagged = {kind: sum(n["imageDistance"]["distance"] > threshold for n in non_scenes if n["kind"] == kind) / per_kind
               for kind in NON_SCENE_KINDS}
    low = [s for s in scenes if "low-verification" in s["warnings"]]
    results = {
        "server": server, "data": str(data_dir), "beams": beams,
        "images": len(scenes), "judged": len(judged),
        "caption_truth_greedy": sum(s["greedy_true"] is True for s in judged) / len(judged),
        "caption_truth_verified": sum(s["verified_true"] is True for s in judged) / len(judged),
        # Every image, a chosen caption the world model cannot judge (ill-formed) counted as not true.
        "caption_truth_verified_of_all_images": sum(s["verified_true"] is True for s in scenes) / len(scenes),
        "caption_truth_verified_by_language_weight": {w: rerank_truth(judged, w) for w in (0.0, 1.0, 2.5, 5.0, 10.0, 20.0)},
        "low_verification_warnings": {"images": len(low), "of_them_false": sum(s["verified_true"] is False for s in low),
                                      "false_without_warning": sum(s["verified_true"] is False and s not in low for s in scenes)},
        "ood": {
            "signal": "imageDistance (Mahalanobis distance of encoder token mean and std from the calibration scenes)",
            "roc_auc": roc_auc(scene_distances, other_distances),
            "threshold": threshold,
            "scenes_flagged": sum(d > threshold for d in scene_distances) / len(scene_distances),
            "non_scenes_flagged_by_kind": flagged,
            "non_scene_images": len(non_scenes),
            "seed": seed,
        },
        "scenes": scenes,
        "non_scenes": non_scenes,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    summary = {k: v for k, v in results.items() if k not in ("scenes", "non_scenes")}
    log(json.dumps(summary, indent=2))
    return results
