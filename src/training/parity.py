"""The parity fixture: PyTorch inputs and outputs that the C# tests replay through ONNX Runtime.

Python has no ONNX Runtime here, so this is the cross-language contract test's reference side.
Layout of `<fixture>/cases.json` (tensors are raw little-endian files beside it):

  {"package": name, "tolerance": 1e-4,
   "cases": [{"name", "graph": "encoder"|"decoder"|"fusion"|"image_cache"|"cached_decoder",
              "inputs":  {onnx input name:  {"file", "dtype": "float32"|"int64"|"bool", "shape"}},
              "outputs": {onnx output name: {...}}},
             {"name": "greedy", "graph": "pipeline", "image_files": [...], "pixel_values": {...},
              "max_length", "decoder_start_token_id", "eos_token_id",
              "expected_ids": [[generated ids after the start token, the end token included]],
              "expected_captions": [...]}]}
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from .onnx_graphs import cross_attention_names, flat_layers, image_cache_names, past_names, present_names
from .pixels import pixel_values

TOLERANCE = 1e-4
_DTYPES = {torch.float32: ("float32", "<f4"), torch.int64: ("int64", "<i8"), torch.bool: ("bool", "|b1")}


class TensorFiles:
    """Writes tensors as raw little-endian files and returns their cases.json entries."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._written: dict[tuple[str, bytes], str] = {}  # identical tensors share one file

    def write(self, name: str, tensor: torch.Tensor) -> dict:
        dtype_name, numpy_dtype = _DTYPES[tensor.dtype]
        array = tensor.detach().cpu().contiguous().numpy().astype(numpy_dtype, copy=False)
        data = array.tobytes(order="C")
        key = (dtype_name, hashlib.sha256(data).digest())
        if key not in self._written:
            self._written[key] = f"{name}.bin"
            (self.directory / self._written[key]).write_bytes(data)
        return {"file": self._written[key], "dtype": dtype_name, "shape": list(tensor.shape)}

    def named(self, prefix: str, tensors: dict[str, torch.Tensor]) -> dict:
        return {name: self.write(f"{prefix}.{name}", t) for name, t in tensors.items()}


def write_parity_fixture(
    model: torch.nn.Module,
    package_name: str,
    directory: Path,
    images: Sequence[tuple[str, np.ndarray]],
    start_id: int,
    end_id: int,
    max_length: int,
    decode: Callable[[list[int]], str],
    prompt_ids: Sequence[int],
    fusion_texts: Sequence[str] = (),
    fusion_rows: Sequence[Sequence[int]] | None = None,
    pad_id: int = 0,
    use_cache_branch: bool = False,
    image_cache: bool = False,
    cross_attentions: bool = False,
) -> dict:
    """Writes cases for the encoder, three kinds of decoder call, fusion (when given texts) and a
    greedy caption per image. `prompt_ids` is a short token row fed to the decoder all at once.
    With `image_cache`, also the service's image-cache graph and two steps of the decoder that
    reads it (export.GRAPH_FILES). With `cross_attentions`, the cached decoder and fusion cases also
    expect the explanation outputs `cross_attentions.{i}`, and a prompt case of the cached decoder
    (several tokens from no past: how the server replays a caption to explain it) is added."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    files = TensorFiles(directory)
    model.eval()
    n_layer = len(model.decoder.blocks)
    cases: list[dict] = []

    def decoder_case(name: str, input_ids, image, fed_past: list[torch.Tensor], use_past: bool):
        """`fed_past` goes into the graph; PyTorch sees it only when `use_past` (a graph without
        use_cache_branch is then given a past of length 0, which means the same)."""
        past = [(fed_past[2 * i], fed_past[2 * i + 1]) for i in range(n_layer)] if use_past else None
        logits, presents = model.decoder(input_ids, image, past)  # (B, T, V), [(B, h, S, d)] * L
        inputs = {"input_ids": input_ids, "encoder_hidden_states": image, **dict(zip(past_names(n_layer), fed_past))}
        if use_cache_branch:
            inputs["use_cache_branch"] = torch.tensor([use_past])
        outputs = {"logits": logits, **dict(zip(present_names(n_layer), flat_layers(presents)))}
        cases.append({"name": name, "graph": "decoder", "inputs": files.named(name, inputs), "outputs": files.named(name, outputs)})
        return logits, flat_layers(presents)

    with torch.no_grad():
        pixels = pixel_values(torch.from_numpy(np.stack([image for _, image in images])))  # (B, 3, H, W)
        image = model.encoder(pixels)  # (B, N, D)
        cases.append(
            {
                "name": "encoder",
                "graph": "encoder",
                "inputs": files.named("encoder", {"pixel_values": pixels}),
                "outputs": files.named("encoder", {"last_hidden_state": image}),
            }
        )

        B = image.size(0)
        n_head = model.decoder.blocks[0].self_attn.n_head
        head_size = model.decoder.wte.embedding_dim // n_head
        # A graph with use_cache_branch gets a one-long dummy past on the first step, which it must
        # ignore (Optimum's exports are fed that way); a plain merged decoder gets a past of length 0.
        first_past_length = 1 if use_cache_branch else 0
        noise = torch.Generator().manual_seed(0)
        first_past = [torch.randn(B, n_head, first_past_length, head_size, generator=noise) for _ in range(2 * n_layer)]
        start = torch.full((B, 1), start_id, dtype=torch.long)  # (B, 1)
        logits, presents = decoder_case("decoder_step0", start, image, first_past, use_past=False)
        next_ids = logits[:, -1].argmax(-1, keepdim=True)  # (B, 1)
        decoder_case("decoder_step1", next_ids, image, presents, use_past=True)
        prompt = torch.tensor([list(prompt_ids)] * B, dtype=torch.long)  # (B, T): several tokens at once
        decoder_case("decoder_prompt", prompt, image, first_past, use_past=False)

        if image_cache:
            cache = flat_layers(model.decoder.image_keys_values(image))  # [(B, h, N, d)] * 2L
            cache_inputs = dict(zip(image_cache_names(n_layer), cache))
            cases.append({
                "name": "image_cache",
                "graph": "image_cache",
                "inputs": files.named("image_cache", {"encoder_hidden_states": image}),
                "outputs": files.named("image_cache", cache_inputs),
            })
            empty = [torch.zeros(B, n_head, 0, head_size) for _ in range(2 * n_layer)]
            past = empty
            steps = [(f"cached_decoder_step{step}", ids) for step, ids in enumerate((start, next_ids))]
            if cross_attentions:
                steps.append(("cached_decoder_prompt", prompt))
            for name, input_ids in steps:
                past = empty if name == "cached_decoder_prompt" else past
                logits, presents, weights = model.decoder(
                    input_ids, image, [(past[2 * i], past[2 * i + 1]) for i in range(n_layer)], output_cross_attentions=True
                )  # (B, T, V), [(B, h, S, d)] * 2L, [(B, h, T, N)] * L
                inputs = {"input_ids": input_ids, **dict(zip(past_names(n_layer), past)), **cache_inputs}
                outputs = {"logits": logits, **dict(zip(present_names(n_layer), flat_layers(presents)))}
                if cross_attentions:
                    outputs.update(zip(cross_attention_names(n_layer), weights))
                cases.append({"name": name, "graph": "cached_decoder", "inputs": files.named(name, inputs), "outputs": files.named(name, outputs)})
                past = flat_layers(presents)

        if fusion_rows is not None:
            length = max(len(r) for r in fusion_rows)
            ids = torch.full((len(fusion_rows), length), pad_id, dtype=torch.long)
            mask = torch.zeros((len(fusion_rows), length), dtype=torch.long)
            for i, row in enumerate(fusion_rows):
                ids[i, : len(row)] = torch.tensor(list(row))
                mask[i, : len(row)] = 1
            states = image[torch.arange(len(fusion_rows)) % B]  # (F, N, D): texts cycle over the images
            logits, _, weights = model.fusion.scores_states_and_attentions(ids, mask, states)  # (F,), _, [(F, h, T, N)] * L
            inputs = {"input_ids": ids, "attention_mask": mask, "encoder_hidden_states": states}
            expected = {"logits": logits, **(dict(zip(cross_attention_names(len(weights)), weights)) if cross_attentions else {})}
            cases.append(
                {
                    "name": "fusion",
                    "graph": "fusion",
                    "texts": list(fusion_texts),
                    "inputs": files.named("fusion", inputs),
                    "outputs": files.named("fusion", expected),
                }
            )

        generated = model.generate(pixels, start_id, end_id, max_length)  # (B, L)
        expected_ids = []
        for row in generated[:, 1:].tolist():
            expected_ids.append(row[: row.index(end_id) + 1] if end_id in row else row)
        cases.append(
            {
                "name": "greedy",
                "graph": "pipeline",
                "image_files": [name for name, _ in images],
                "pixel_values": files.write("greedy.pixel_values", pixels),
                "max_length": max_length,
                "decoder_start_token_id": start_id,
                "eos_token_id": end_id,
                "expected_ids": expected_ids,
                "expected_captions": [decode(row) for row in expected_ids],
            }
        )

    fixture = {"package": package_name, "tolerance": TOLERANCE, "cases": cases}
    (directory / "cases.json").write_text(json.dumps(fixture, indent=2) + "\n", encoding="utf-8")
    return fixture


def write_tokenizer_cases(directory: Path, cases: Sequence[tuple[str, list[int]]]) -> None:
    """`tokenizer_cases.json`: texts with the ids the package's `tokenizer.json` gives them, its
    post-processor included (so `[CLS] .. [SEP]` for WordPiece packages, nothing added for GPT-2)."""
    rows = [{"text": text, "ids": list(ids)} for text, ids in cases]
    (directory / "tokenizer_cases.json").write_text(json.dumps({"cases": rows}, indent=2) + "\n", encoding="utf-8")
