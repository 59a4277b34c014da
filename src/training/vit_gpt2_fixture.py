"""A tiny package in the layout of Optimum's vit-gpt2 image-to-text exports, for the server's tests.

  PYTHONPATH=src /usr/bin/python3 -m training.vit_gpt2_fixture

It differs from the default package where Optimum's exports do: a GPT-2 byte-level BPE tokenizer
(vocab.json + merges.txt), <|endoftext|> as start, end and padding token, and a merged decoder
with a `use_cache_branch` input. Its weights are random, then fitted for a few seconds to the
canonical captions of a few generated scenes, only so that its greedy output is words rather than
stray bytes; it is not a useful model. It has no fusion graph (a captioning-only package).
Each graph also comes as its `_quantized` variant (training.quantize), declared in the manifest
under `variants.q8`.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .bpe import END_OF_TEXT, ByteLevelBPE
from .export import ENCODER_IO, PARITY_IMAGES, decoder_io, sha256
from .hf_files import gpt2_decoder_block, preprocessor_config_json, write_json
from .language import describe
from .model import CaptionFusionModel, ModelConfig
from .onnx_graphs import export_decoder, export_encoder
from .parity import write_parity_fixture, write_tokenizer_cases
from .pixels import load_image, pixel_values
from .quantize import quantize_package, variant_path
from .render import render
from .vocab import WORDS
from .world import sample_world

NAME = "vit-gpt2-tiny"
PACKAGE_DIR = Path("tests/fixtures/vit-gpt2-tiny")
PARITY_DIR = Path("tests/fixtures/parity/vit-gpt2-tiny")
MAX_LENGTH = 24
FIT_SCENES, FIT_STEPS = 32, 300
TOKENIZER_TEXTS = (
    "a red square is to the left of a blue circle .",
    "there is a cyan semicircle .",
    "Crosses, ellipses & pentagons!",
)


def tiny_config(vocab_size: int) -> ModelConfig:
    return ModelConfig(
        vocab_size=vocab_size,
        cnn_channels=(8, 16),
        n_embd=32,
        n_head=2,
        n_encoder_layer=1,
        n_decoder_layer=2,
        n_fusion_layer=1,  # built but not exported
        n_positions=MAX_LENGTH,
    )


def fit_briefly(model: CaptionFusionModel, bpe: ByteLevelBPE, seed: int = 0) -> None:
    """A few hundred LM steps on a handful of scenes: enough for word-shaped greedy output."""
    rng = random.Random(seed)
    worlds = [sample_world(rng, 1, 4) for _ in range(FIT_SCENES)]
    images = torch.from_numpy(np.stack([render(w, model.config.image_size) for w in worlds]))  # (S, H, W, 3)
    eot = bpe.end_of_text_id
    rows = [[eot, *bpe.encode(describe(w))[: MAX_LENGTH - 2], eot] for w in worlds]
    length = max(len(r) for r in rows)
    ids = torch.full((len(rows), length), -100, dtype=torch.long)  # (S, L): -100 is ignored by the loss
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
    inputs = ids[:, :-1].clamp(min=0)  # (S, L - 1)
    targets = ids[:, 1:]  # (S, L - 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    pixels = pixel_values(images)  # (S, 3, H, W)
    model.train()
    for _ in range(FIT_STEPS):
        logits, _ = model.decoder(inputs, model.encoder(pixels))  # (S, L - 1, V)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()


def config_json(config: ModelConfig, eot: int) -> dict:
    ids = {"decoder_start_token_id": eot, "bos_token_id": eot, "eos_token_id": eot, "pad_token_id": eot}
    return {
        "architectures": ["VisionEncoderDecoderModel"],
        "model_type": "vision-encoder-decoder",
        "is_encoder_decoder": True,
        "tie_word_embeddings": False,
        **ids,
        "encoder": {
            # vit-gpt2's encoder type; the graph is a small CNN with the same input and output contract.
            "model_type": "vit",
            "image_size": config.image_size,
            "num_channels": 3,
            "hidden_size": config.n_embd,
            "num_hidden_layers": config.n_encoder_layer,
            "num_attention_heads": config.n_head,
        },
        "decoder": gpt2_decoder_block(config, ids),
    }


def graph_entry(directory: Path, file: str) -> dict:
    """A graph file with its sha256, and its `q8` (`_quantized`) variant when one was written."""
    entry = {"file": file, "sha256": sha256(directory / file)}
    quantized = variant_path(Path(file)).as_posix()
    if (directory / quantized).exists():
        entry["variants"] = {"q8": {"file": quantized, "sha256": sha256(directory / quantized)}}
    return entry


def manifest(directory: Path, config: ModelConfig) -> dict:
    graphs = {"encoder": "onnx/encoder_model.onnx", "decoder": "onnx/decoder_model_merged.onnx"}
    return {
        "name": NAME,
        "version": "0.0.1",
        "graphs": {role: graph_entry(directory, file) for role, file in graphs.items()},
        "encoder": ENCODER_IO,
        "decoder": decoder_io(use_cache_branch="use_cache_branch"),
        "tokenizer": {
            "kind": "bpe",
            "vocab": "vocab.json",
            "merges": "merges.txt",
            "lowercase": False,
            "max_length": config.n_positions,
        },
    }


def build(package_dir: Path = PACKAGE_DIR, parity_dir: Path = PARITY_DIR, seed: int = 0) -> dict:
    torch.manual_seed(seed)
    bpe = ByteLevelBPE.for_words(WORDS)
    config = tiny_config(len(bpe.vocab))
    model = CaptionFusionModel(config)
    fit_briefly(model, bpe, seed)

    if package_dir.exists():
        shutil.rmtree(package_dir)
    (package_dir / "onnx").mkdir(parents=True)
    export_encoder(model.encoder, config.image_size, package_dir / "onnx/encoder_model.onnx")
    export_decoder(model.decoder, config.grid_size**2, package_dir / "onnx/decoder_model_merged.onnx", use_cache_branch=True)
    # The q8 variant (transformers.js dtype "q8"), so that the server's dtype selection is tested.
    quantize_package(package_dir)
    model.eval()
    eot = bpe.end_of_text_id
    write_json(package_dir / "config.json", config_json(config, eot))
    write_json(
        package_dir / "generation_config.json",
        {"decoder_start_token_id": eot, "bos_token_id": eot, "eos_token_id": eot, "pad_token_id": eot, "max_length": MAX_LENGTH},
    )
    write_json(package_dir / "preprocessor_config.json", preprocessor_config_json(config))
    write_json(package_dir / "vocab.json", bpe.vocab_json())
    (package_dir / "merges.txt").write_text(bpe.merges_txt(), encoding="utf-8")
    write_json(package_dir / "tokenizer.json", bpe.tokenizer_json())
    write_json(
        package_dir / "tokenizer_config.json",
        {
            "tokenizer_class": "GPT2Tokenizer",
            "add_prefix_space": False,
            "bos_token": END_OF_TEXT,
            "eos_token": END_OF_TEXT,
            "unk_token": END_OF_TEXT,
            "pad_token": END_OF_TEXT,
            "model_max_length": MAX_LENGTH,
            "clean_up_tokenization_spaces": False,
        },
    )
    write_json(package_dir / "special_tokens_map.json", {"bos_token": END_OF_TEXT, "eos_token": END_OF_TEXT, "unk_token": END_OF_TEXT, "pad_token": END_OF_TEXT})
    write_json(package_dir / "caption_service.json", manifest(package_dir, config))

    images = [(f"image-{i}.png", load_image(source, config.image_size)) for i, source in enumerate(PARITY_IMAGES)]
    fixture = write_parity_fixture(
        model,
        NAME,
        parity_dir,
        images,
        start_id=eot,
        end_id=eot,
        max_length=MAX_LENGTH,
        decode=bpe.decode,
        prompt_ids=[eot, *bpe.encode("a red square")],
        use_cache_branch=True,
    )
    for (file_name, _), source in zip(images, PARITY_IMAGES):
        shutil.copyfile(source, parity_dir / file_name)
    write_tokenizer_cases(parity_dir, [(text, bpe.encode(text)) for text in TOKENIZER_TEXTS])
    return fixture


if __name__ == "__main__":
    torch.set_num_threads(2)
    result = build()
    greedy = next(c for c in result["cases"] if c["name"] == "greedy")
    print(f"wrote {PACKAGE_DIR} and {PARITY_DIR}; greedy captions {greedy['expected_captions']}")
