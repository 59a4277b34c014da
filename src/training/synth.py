"""Random-weight model packages in the exact shapes of nlpconnect/vit-gpt2-image-captioning.

  PYTHONPATH=src /usr/bin/python3 -m training synth --preset vit-gpt2-base --out .cache/synth/vit-gpt2-base [--seed 0]

For measuring the server at real scale: only the weights are synthetic (seeded, so the same seed
gives the same graphs). config.json, generation_config.json, preprocessor_config.json,
tokenizer.json and tokenizer_config.json are the published files in
tests/data/hf-reference/vit-gpt2-image-captioning/; vocab.json and merges.txt, which the server's
tokenizer reads, are derived from tokenizer.json. The graphs are the Optimum layout that
transformers.js loads: onnx/encoder_model.onnx and onnx/decoder_model_merged.onnx with
`use_cache_branch`. `--image-cache` adds the server's own image-cache graph pair
(models/README.md), which a Hugging Face export lacks.

Presets: vit-gpt2-base (ViT-B/16 + GPT-2 small, 238.6 M parameters, 1.1 GB of graphs) and
vit-gpt2-mini (the same architecture, input, tokenizer and 50,257-token vocabulary, 2 + 2 layers
at width 128), for quick runs and tests. A preset other than base writes its sizes into
config.json, which transformers.js sizes its empty cache from.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import torch

from .export import ENCODER_IO, decoder_io, sha256
from .hf_files import write_json
from .onnx_graphs import export_cached_image_decoder, export_decoder, export_encoder, export_image_cache
from .vit_gpt2 import VitGpt2, VitGpt2Config

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "hf-reference" / "vit-gpt2-image-captioning"
COPIED_FILES = ("generation_config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json")
PRESETS = {
    "vit-gpt2-base": VitGpt2Config(),
    "vit-gpt2-mini": VitGpt2Config(n_embd=128, n_head=2, encoder_layers=2, decoder_layers=2),
}
GRAPH_FILES = {
    "encoder": "onnx/encoder_model.onnx",
    "decoder": "onnx/decoder_model_merged.onnx",
    "image_cache": "onnx/decoder_image_cache.onnx",
    "cached_decoder": "onnx/decoder_with_image_cache.onnx",
}


def read_reference(name: str) -> dict:
    return json.loads((REFERENCE_DIR / name).read_text(encoding="utf-8"))


def model_config_json(config: VitGpt2Config) -> dict:
    """The reference config.json with the preset's sizes written in (unchanged for vit-gpt2-base)."""
    result = copy.deepcopy(read_reference("config.json"))
    result["encoder"].update(
        image_size=config.image_size,
        patch_size=config.patch_size,
        hidden_size=config.n_embd,
        num_attention_heads=config.n_head,
        num_hidden_layers=config.encoder_layers,
        intermediate_size=config.mlp_ratio * config.n_embd,
        layer_norm_eps=config.encoder_eps,
    )
    result["decoder"].update(
        n_embd=config.n_embd,
        n_head=config.n_head,
        n_layer=config.decoder_layers,
        n_positions=config.n_positions,
        n_ctx=config.n_positions,
        vocab_size=config.vocab_size,
        layer_norm_epsilon=config.decoder_eps,
    )
    return result


def vocab_and_merges(tokenizer: dict) -> tuple[dict[str, int], str]:
    """vocab.json and merges.txt (GPT-2's files) from a tokenizer.json BPE model."""
    model = tokenizer["model"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]  # "a b" or ["a", "b"]
    return model["vocab"], "#version: 0.2\n" + "".join(f"{m}\n" for m in merges)


def manifest(directory: Path, name: str, seed: int, config: VitGpt2Config, image_cache: bool) -> dict:
    roles = ["encoder", "decoder", *(["image_cache", "cached_decoder"] if image_cache else [])]
    result = {
        "name": name,
        "version": f"0.0.0-synthetic.{seed}",
        "graphs": {role: {"file": GRAPH_FILES[role], "sha256": sha256(directory / GRAPH_FILES[role])} for role in roles},
        "encoder": ENCODER_IO,
        # With the image cache the server decodes with the cached decoder, which the decoder names
        # describe too (models/README.md); it takes a past of length 0 and has no use_cache_branch.
        "decoder": decoder_io(use_cache_branch=None if image_cache else "use_cache_branch"),
        "tokenizer": {"kind": "bpe", "vocab": "vocab.json", "merges": "merges.txt", "lowercase": False, "max_length": config.n_positions},
    }
    if image_cache:
        result["image_cache"] = {"encoder_hidden_states": "encoder_hidden_states", "key": "image_key_values.{i}.key", "value": "image_key_values.{i}.value"}
    return result


def model_card(name: str, seed: int, config: VitGpt2Config, parameters: int, command: str | None) -> str:
    return (
        f"# {name} (synthetic)\n\n"
        f"Random weights (seed {seed}) in the shapes of nlpconnect/vit-gpt2-image-captioning: {parameters:,} parameters, "
        f"ViT {config.encoder_layers} layers and GPT-2 {config.decoder_layers} layers at width {config.n_embd}, "
        f"{config.n_head} heads, vocabulary {config.vocab_size:,}. Its captions are meaningless; it exists to measure "
        "and test the server at this size. The JSON configs and the tokenizer are the published vit-gpt2 files "
        "(Apache-2.0; GPT-2 tokenizer MIT).\n\n"
        + (f"Made with `{command}`.\n" if command else "")
    )


def prepare_directory(directory: Path) -> None:
    """Replaces an earlier synthetic package; refuses to delete any other non-empty directory."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / "caption_service.json").is_file():
            raise ValueError(f"{directory} is not empty and holds no model package; refusing to replace it")
        shutil.rmtree(directory)
    (directory / "onnx").mkdir(parents=True)


def synthesize(preset: str, directory: Path, seed: int = 0, image_cache: bool = False, command: str | None = None) -> dict:
    """Writes the package into `directory` and returns its manifest."""
    config = PRESETS[preset]
    torch.manual_seed(seed)
    model = VitGpt2(config).eval()
    prepare_directory(directory)
    export_encoder(model.encoder, config.image_size, directory / GRAPH_FILES["encoder"], static_length=True)
    export_decoder(model.decoder, config.image_tokens, directory / GRAPH_FILES["decoder"], use_cache_branch=True)
    if image_cache:
        export_image_cache(model.decoder, config.image_tokens, directory / GRAPH_FILES["image_cache"])
        export_cached_image_decoder(model.decoder, config.image_tokens, directory / GRAPH_FILES["cached_decoder"], row_positions=True)

    hf_config = model_config_json(config)
    if hf_config == read_reference("config.json"):
        shutil.copyfile(REFERENCE_DIR / "config.json", directory / "config.json")
    else:
        write_json(directory / "config.json", hf_config)
    for name in COPIED_FILES:
        shutil.copyfile(REFERENCE_DIR / name, directory / name)
    vocab, merges = vocab_and_merges(read_reference("tokenizer.json"))
    write_json(directory / "vocab.json", vocab)
    (directory / "merges.txt").write_text(merges, encoding="utf-8")
    result = manifest(directory, preset, seed, config, image_cache)
    write_json(directory / "caption_service.json", result)
    (directory / "MODEL_CARD.md").write_text(model_card(preset, seed, config, model.num_parameters(), command), encoding="utf-8")
    return result
