"""Chooses the cross-attention heads whose mean is a caption word's explanation map (issue 14).

  dotnet build src/CaptionService.Api -c Release
  PYTHONPATH=src /usr/bin/python3 -m training explanation-heads models/shapeworld-fusion --out runs/explanation-heads.json

Why: heads specialise. In the bundled model, layer 0's heads 1 and 2 look at the object while the
decoder chooses a colour word (the step after "a"), and at nothing in particular while it chooses
the shape; other heads do the reverse. The mean over all 12 heads blurs the colour step's map, so
its peak missed the object a quarter of the time. A word's map stays the attention of the step that
chose it; only the heads that are averaged change.

How, without looking at the development scenes (they are for measuring, `pointing`): scenes from
the project's own generator (`pointing.generated_scenes`, the training distribution, seed 1414
unless told) are captioned by the package's server once per head, with the manifest naming that
head alone (a copy of the package whose other files are links), so every head's map of every word
is known. Heads are then added greedily, each time the one that most raises the smaller of the two
pointing-game hit rates (colour words, shape words; ties to the larger mean of the two), stopping
when no head raises it. The mean of a set of heads' maps is the map the server gives for that set,
so the choice is judged on exactly what users will get. The choice is written into the package's
`caption_service.json` as `decoder.cross_attention_heads`; every head's rates and the greedy steps
go to `--out`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from .pointing import generated_scenes, score_words, summarise
from .trust import post_caption

MANIFEST = "caption_service.json"
DEFAULT_SERVER = ("dotnet", "src/CaptionService.Api/bin/Release/net10.0/CaptionService.Api.dll")


def layers_and_heads(package: Path) -> tuple[int, int]:
    decoder = json.loads((package / "config.json").read_text(encoding="utf-8"))["decoder"]
    return (decoder.get("n_layer") or decoder["num_hidden_layers"]), (decoder.get("n_head") or decoder["num_attention_heads"])


def single_head_package(package: Path, layer: int, head: int, into: Path) -> Path:
    """A copy of `package` whose manifest picks one head; every other file is a link to the original."""
    copy = into / f"head-{layer}-{head}"
    copy.mkdir()
    for entry in package.iterdir():
        if entry.name != MANIFEST:
            (copy / entry.name).symlink_to(entry.resolve())
    manifest = json.loads((package / MANIFEST).read_text(encoding="utf-8"))
    manifest["decoder"]["cross_attention_heads"] = [[layer, head]]
    (copy / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return copy


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def explain_with(package: Path, scenes: list[tuple[bytes, dict]], server_command: tuple[str, ...], log=print) -> list[dict]:
    """Starts a server on `package`, returns its `explain=true` answer for every scene, stops it."""
    url = f"http://127.0.0.1:{_free_port()}"
    env = dict(os.environ, CaptionService__Model__Path=str(package), ASPNETCORE_URLS=url)
    process = subprocess.Popen(server_command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health/ready", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server on {package} did not become ready (exit code {process.poll()})")
            time.sleep(1)
        return [post_caption(url, png, "?explain=true") for png, _ in scenes]
    finally:
        process.terminate()
        process.wait(timeout=30)


def hit_rates(answers_by_head: dict[tuple[int, int], list[dict]], heads: list[tuple[int, int]], worlds: list[dict]) -> dict:
    """The pointing game's summary when each word's map is the mean of `heads`' maps."""
    rows = []
    first = answers_by_head[heads[0]]
    for i, world in enumerate(worlds):
        explanation = []
        for j, word in enumerate(first[i]["explanation"]):
            values = np.mean([answers_by_head[h][i]["explanation"][j]["map"]["values"] for h in heads], axis=0)
            explanation.append(dict(word, map=dict(word["map"], values=values.tolist())))
        rows.extend(score_words({"explanation": explanation}, world))
    return summarise(rows)


def _objective(summary: dict) -> tuple[float, float]:
    rates = summary["color"]["hit_rate"], summary["shape"]["hit_rate"]
    return min(rates), sum(rates) / 2


def choose(answers_by_head: dict[tuple[int, int], list[dict]], worlds: list[dict], log=print) -> tuple[list[tuple[int, int]], list[dict]]:
    """Greedy forward selection of heads (module docstring); the chosen heads and the steps taken."""
    chosen: list[tuple[int, int]] = []
    best: tuple[float, float] = (-1.0, -1.0)
    steps = []
    while len(chosen) < len(answers_by_head):
        candidates = [(h, hit_rates(answers_by_head, chosen + [h], worlds)) for h in answers_by_head if h not in chosen]
        head, summary = max(candidates, key=lambda c: _objective(c[1]))
        if _objective(summary) <= best:
            break
        chosen.append(head)
        best = _objective(summary)
        steps.append({"heads": [list(h) for h in chosen], "color": summary["color"]["hit_rate"], "shape": summary["shape"]["hit_rate"]})
        log(f"heads {chosen}: colour {summary['color']['hit_rate']:.3f}, shape {summary['shape']['hit_rate']:.3f}")
    return chosen, steps


def write_heads(package: Path, heads: list[tuple[int, int]]) -> Path:
    """Names `heads` (in layer, head order) as the manifest's `decoder.cross_attention_heads`, written
    as `add-attention-outputs` writes the manifest, so that running either again changes nothing."""
    path = package / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["decoder"]["cross_attention_heads"] = [list(h) for h in sorted(heads)]
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def select_heads(package: Path, out: Path, count: int = 600, seed: int = 1414,
                 server_command: tuple[str, ...] = DEFAULT_SERVER, log=print) -> list[tuple[int, int]]:
    layers, heads = layers_and_heads(package)
    with tempfile.TemporaryDirectory(prefix="explanation-heads-") as work:
        folder = generated_scenes(count, seed, Path(work) / "scenes")
        records = [json.loads(line) for line in (folder / "worlds.jsonl").read_text(encoding="utf-8").splitlines()]
        scenes = [((folder / r["image"]).read_bytes(), r["world_model"]) for r in records]
        worlds = [w for _, w in scenes]
        answers: dict[tuple[int, int], list[dict]] = {}
        for layer in range(layers):
            for head in range(heads):
                answers[(layer, head)] = explain_with(single_head_package(package, layer, head, Path(work)), scenes, server_command)
                single = hit_rates(answers, [(layer, head)], worlds)
                log(f"layer {layer} head {head}: colour {single['color']['hit_rate']:.3f}, shape {single['shape']['hit_rate']:.3f}")
        captions = {tuple(a["caption"] for a in by_head) for by_head in answers.values()}
        if len(captions) != 1:
            raise RuntimeError("the captions differ between runs; the heads' maps cannot be combined")
        every = hit_rates(answers, list(answers), worlds)
        chosen, steps = choose(answers, worlds, log)

    manifest_path = write_heads(package, chosen)
    report = {
        "package": str(package), "scenes": {"count": count, "seed": seed, "generator": "training.pointing.generated_scenes"},
        "every_head": {"color": every["color"], "shape": every["shape"]},
        "single_heads": [{"layer": l, "head": h, **{k: v["hit_rate"] for k, v in hit_rates(answers, [(l, h)], worlds).items()}}
                         for l, h in answers],
        "greedy_steps": steps, "chosen": [list(h) for h in chosen],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    log(f"wrote decoder.cross_attention_heads {report['chosen']} into {manifest_path}")
    return chosen
