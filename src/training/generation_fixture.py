"""Generation parity cases: n-best lists of transformers-style `generate` (src/training/generation.py)
for each parity fixture, which the C# parity tests reproduce through ONNX Runtime.

  PYTHONPATH=src /usr/bin/python3 -m training.generation_fixture

Writes tests/fixtures/parity/<package>/generation_cases.json beside each package's cases.json and
changes nothing else: no graph is exported again. The decoder is rebuilt in PyTorch from the
package's own merged-decoder graph (its initializers are the exported parameters; a Linear's weight
is the transposed initializer of the MatMul node named after the module), checked against the
fixture's reference decoder logits, and fed the fixture's PyTorch encoder states.

Layout: {"package", "tolerance", "cases": [{"name", "options": {request option: value},
  "hf": {generate argument: value}, "images": [[{"ids", "score", "log_prob"}, ...] per image]}]}
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from .generation import GenerationSettings, generate
from .model import CaptionDecoder, ModelConfig

TOLERANCE = 1e-4
PACKAGES = {
    "shapeworld-fusion": Path("models/shapeworld-fusion"),
    "vit-gpt2-tiny": Path("tests/fixtures/vit-gpt2-tiny"),
}
FIXTURES = Path("tests/fixtures/parity")
# (name, generate arguments): transformers' defaults are num_beams 1, length_penalty 1.0,
# early_stopping False, no repetition guard.
CASES = (
    ("beams4_defaults", {"num_beams": 4, "num_return_sequences": 4}),
    ("beams4_length_penalty0_false", {"num_beams": 4, "num_return_sequences": 4, "length_penalty": 0.0, "early_stopping": False}),
    ("beams4_length_penalty0_never", {"num_beams": 4, "num_return_sequences": 3, "length_penalty": 0.0, "early_stopping": "never"}),
    ("beams4_length_penalty2_never", {"num_beams": 4, "num_return_sequences": 4, "length_penalty": 2.0, "early_stopping": "never"}),
    ("beams3_length_penalty2_true", {"num_beams": 3, "num_return_sequences": 3, "length_penalty": 2.0, "early_stopping": True}),
    ("beams4_length_penalty_minus1", {"num_beams": 4, "num_return_sequences": 2, "length_penalty": -1.0}),
    ("beams4_no_repeat_ngram2", {"num_beams": 4, "num_return_sequences": 4, "no_repeat_ngram_size": 2}),
    ("beams4_repetition_penalty1.3", {"num_beams": 4, "num_return_sequences": 4, "repetition_penalty": 1.3}),
    ("beams4_min_new_tokens10", {"num_beams": 4, "num_return_sequences": 4, "min_new_tokens": 10}),
    ("beams5_max_new_tokens4", {"num_beams": 5, "num_return_sequences": 5, "max_new_tokens": 4}),
    ("greedy_repetition_penalty1.3_no_repeat_ngram2", {"repetition_penalty": 1.3, "no_repeat_ngram_size": 2}),
    ("greedy_min_new_tokens18", {"min_new_tokens": 18}),
)
# generate argument -> the service's request option
OPTION_NAMES = {
    "max_new_tokens": "maxTokens",
    "min_new_tokens": "minTokens",
    "num_beams": "beams",
    "num_return_sequences": "alternatives",
    "length_penalty": "lengthPenalty",
    "early_stopping": "earlyStopping",
    "no_repeat_ngram_size": "noRepeatNgramSize",
    "repetition_penalty": "repetitionPenalty",
}


def _all_nodes(graph: onnx.GraphProto):
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(attribute.g)


def decoder_from_onnx(package_dir: Path) -> CaptionDecoder:
    """The caption decoder with the parameters stored in the package's merged-decoder graph."""
    block = json.loads((package_dir / "config.json").read_text(encoding="utf-8"))["decoder"]
    n_embd = block["n_embd"]
    config = ModelConfig(
        vocab_size=block["vocab_size"],
        n_embd=n_embd,
        n_head=block["n_head"],
        n_decoder_layer=block["n_layer"],
        n_positions=block["n_positions"],
        mlp_ratio=block.get("n_inner", 4 * n_embd) // n_embd,
    )
    decoder = CaptionDecoder(config)
    manifest = json.loads((package_dir / "caption_service.json").read_text(encoding="utf-8"))
    graph = onnx.load(str(package_dir / manifest["graphs"]["decoder"]["file"])).graph
    initializers = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    state = {name.removeprefix("decoder."): t for name, t in initializers.items() if name.startswith("decoder.")}
    for node in _all_nodes(graph):
        weight = next((initializers[i] for i in node.input if i in initializers and i.startswith("onnx::")), None)
        if node.op_type == "MatMul" and weight is not None and node.name.startswith("/decoder/"):
            module = node.name.removeprefix("/decoder/").removesuffix("/MatMul").replace("/", ".")
            state[f"{module}.weight"] = weight.T  # x @ W^T was traced as x @ initializer
    lm_head = state.pop("lm_head.weight")
    if not torch.equal(lm_head, state["wte.weight"]):
        raise ValueError("lm_head is not tied to wte in the graph")
    decoder.load_state_dict({**state, "lm_head.weight": state["wte.weight"]}, strict=True)
    return decoder.eval()


def _tensor(fixture_dir: Path, reference: dict) -> torch.Tensor:
    dtype = {"float32": "<f4", "int64": "<i8", "bool": "|b1"}[reference["dtype"]]
    array = np.fromfile(fixture_dir / reference["file"], dtype=dtype).reshape(reference["shape"])
    return torch.from_numpy(array.copy())


def check_against_fixture(decoder: CaptionDecoder, fixture_dir: Path) -> torch.Tensor:
    """The rebuilt decoder reproduces the fixture's first-step logits and, without options, its
    greedy captions; returns the fixture's encoder states (B, N, D)."""
    cases = {c["name"]: c for c in json.loads((fixture_dir / "cases.json").read_text(encoding="utf-8"))["cases"]}
    image = _tensor(fixture_dir, cases["encoder"]["outputs"]["last_hidden_state"])  # (B, N, D)
    step0 = cases["decoder_step0"]
    with torch.no_grad():
        logits, _ = decoder(_tensor(fixture_dir, step0["inputs"]["input_ids"]), image)  # (B, 1, V)
    difference = float((logits - _tensor(fixture_dir, step0["outputs"]["logits"])).abs().max())
    if difference > 1e-5:
        raise ValueError(f"{fixture_dir}: the decoder rebuilt from ONNX differs from the fixture by {difference:.2e}")
    greedy = cases["greedy"]
    settings = GenerationSettings(max_new_tokens=greedy["max_length"] - 1)
    for i, expected in enumerate(greedy["expected_ids"]):
        found = generate(_step(decoder, image[i : i + 1]), greedy["decoder_start_token_id"], greedy["eos_token_id"], settings)[0].ids
        if found != expected:
            raise ValueError(f"{fixture_dir}: greedy ids {found} differ from the fixture's {expected}")
    return image


def _step(decoder: CaptionDecoder, states: torch.Tensor):
    """Next-token logits (R, V) for R rows of ids (R, L), all about one image's states (1, N, D);
    the whole prefix is decoded again each step (no cache): slow, and simple."""

    def step(ids: torch.Tensor) -> torch.Tensor:
        logits, _ = decoder(ids, states.expand(ids.size(0), -1, -1))  # (R, L, V)
        return logits[:, -1]  # (R, V)

    return step


def request_options(arguments: dict) -> dict:
    options = {}
    for name, value in arguments.items():
        if name == "early_stopping":
            value = value if isinstance(value, str) else str(value).lower()
        options[OPTION_NAMES[name]] = value
    return options


def write_generation_cases(package: str, package_dir: Path, fixture_dir: Path) -> dict:
    generation = json.loads((package_dir / "generation_config.json").read_text(encoding="utf-8"))
    start_id, eos_id = generation["decoder_start_token_id"], generation["eos_token_id"]
    decoder = decoder_from_onnx(package_dir)
    image = check_against_fixture(decoder, fixture_dir)
    model_max_new_tokens = min(generation["max_length"] - 1, decoder.n_positions)
    cases = []
    for name, arguments in CASES:
        settings = GenerationSettings(**{"max_new_tokens": model_max_new_tokens, **arguments})
        per_image = []
        for i in range(image.size(0)):
            hypotheses = generate(_step(decoder, image[i : i + 1]), start_id, eos_id, settings)
            per_image.append([{"ids": h.ids, "score": h.score, "log_prob": h.log_prob} for h in hypotheses])
        cases.append({"name": name, "options": request_options(arguments), "hf": arguments, "images": per_image})
    document = {"package": package, "tolerance": TOLERANCE, "cases": cases}
    (fixture_dir / "generation_cases.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return document


if __name__ == "__main__":
    torch.set_num_threads(2)
    for package, package_dir in PACKAGES.items():
        document = write_generation_cases(package, package_dir, FIXTURES / package)
        print(f"{package}: {len(document['cases'])} cases written")
