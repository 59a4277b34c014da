"""Export a model as a CaptionService model package (models/README.md) and its parity fixture.

  /usr/bin/python3 -m training export --checkpoint runs/default/checkpoint.pt \
      --evaluation runs/default/evaluation.json --out models/shapeworld-fusion \
      --parity tests/fixtures/parity/shapeworld-fusion
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from .calibrate import DEFAULT_DATA
from .hf_files import token_ids, write_hf_files, write_json
from .model import CaptionFusionModel
from .model_card import model_card
from .onnx_graphs import CROSS_ATTENTIONS, export_cached_image_decoder, export_decoder, export_encoder, export_fusion, export_image_cache
from .parity import write_parity_fixture, write_tokenizer_cases
from .pixels import load_image
from .tokenizer import WordTokenizer

MAX_PACKAGE_BYTES = 40 * 1024 * 1024
GRAPH_FILES = {
    "encoder": "onnx/encoder_model.onnx",
    "decoder": "onnx/decoder_model_merged.onnx",
    "fusion": "onnx/fusion_model.onnx",
    # The service's caption path (models/README.md): the image's cross-attention keys and values
    # once per image, then decoder steps that read them instead of the encoder states.
    "image_cache": "onnx/decoder_image_cache.onnx",
    "cached_decoder": "onnx/decoder_with_image_cache.onnx",
}
# Parity inputs: two published images (at the model's input size already, so no engine resizes)
# and fusion texts of different lengths, so that padding is exercised.
# From the repository's own copy, so that a re-export writes the same fixture anywhere.
PARITY_IMAGES = (
    DEFAULT_DATA / "existential-full" / "world-0.png",
    DEFAULT_DATA / "relational-spatial" / "world-0.png",
)
PARITY_TEXTS = (
    "there is a red square .",
    "a red square is to the left of a blue circle .",
    "a shape is green .",
)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


ENCODER_IO = {"pixel_values": "pixel_values", "last_hidden_state": "last_hidden_state"}


def decoder_io(use_cache_branch: str | None) -> dict:
    """The manifest's decoder block: the Hugging Face merged-decoder names, and the name of the
    Optimum-style boolean `use_cache_branch` input where the graph has one."""
    return {
        "input_ids": "input_ids",
        "encoder_hidden_states": "encoder_hidden_states",
        "past_key": "past_key_values.{i}.key",
        "past_value": "past_key_values.{i}.value",
        "present_key": "present.{i}.key",
        "present_value": "present.{i}.value",
        "logits": "logits",
        "use_cache_branch": use_cache_branch,
    }


def manifest(directory: Path, name: str, version: str, max_length: int, fusion_explains: bool = True) -> dict:
    """`fusion_explains`: the fusion graph has the explanation outputs (not the ablation's baselines)."""
    return {
        "name": name,
        "version": version,
        "graphs": {role: {"file": file, "sha256": sha256(directory / file)} for role, file in GRAPH_FILES.items()},
        "encoder": ENCODER_IO,
        # The optional explanation outputs, in the graph the server decodes with (the cached decoder).
        "decoder": {**decoder_io(use_cache_branch=None), "cross_attentions": CROSS_ATTENTIONS},
        "image_cache": {
            "encoder_hidden_states": "encoder_hidden_states",
            "key": "image_key_values.{i}.key",
            "value": "image_key_values.{i}.value",
        },
        "fusion": {
            "input_ids": "input_ids",
            "attention_mask": "attention_mask",
            "encoder_hidden_states": "encoder_hidden_states",
            "logits": "logits",
            "score": "sigmoid",
            **({"cross_attentions": CROSS_ATTENTIONS} if fusion_explains else {}),
        },
        "tokenizer": {"kind": "wordpiece", "vocab": "vocab.txt", "lowercase": True, "max_length": max_length},
    }


def export_package(
    model: CaptionFusionModel,
    tokenizer: WordTokenizer,
    directory: Path,
    name: str,
    version: str,
    training: dict | None = None,
    evaluation: dict | None = None,
    status: str | None = None,
    trust: str | None = None,
) -> dict:
    """Writes the whole package into `directory` (replacing what was there) and returns its manifest."""
    config = model.config
    if config.vocab_size != len(tokenizer):
        raise ValueError(f"model vocabulary {config.vocab_size} != tokenizer vocabulary {len(tokenizer)}")
    if directory.exists():
        shutil.rmtree(directory)
    (directory / "onnx").mkdir(parents=True)
    model.eval()
    image_tokens = config.grid_size**2
    export_encoder(model.encoder, config.image_size, directory / GRAPH_FILES["encoder"])
    export_decoder(model.decoder, image_tokens, directory / GRAPH_FILES["decoder"])
    fusion_explains = model.fusion.explanation_layers > 0
    export_fusion(model, image_tokens, directory / GRAPH_FILES["fusion"], cross_attentions=fusion_explains)
    export_image_cache(model.decoder, image_tokens, directory / GRAPH_FILES["image_cache"])
    export_cached_image_decoder(model.decoder, image_tokens, directory / GRAPH_FILES["cached_decoder"], cross_attentions=True)
    model.eval()  # export restores the training flags of the wrappers it traced
    write_hf_files(directory, config, tokenizer)
    service_manifest = manifest(directory, name, version, config.n_positions, fusion_explains)
    write_json(directory / "caption_service.json", service_manifest)
    card = model_card(name, version, config, model.num_parameters(), len(tokenizer), training, evaluation, status, trust)
    (directory / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    if size > MAX_PACKAGE_BYTES:
        raise ValueError(f"the package is {size} bytes, over the {MAX_PACKAGE_BYTES}-byte limit")
    return service_manifest


def export_parity(model: CaptionFusionModel, tokenizer: WordTokenizer, name: str, directory: Path, cross_attentions: bool = True) -> dict:
    """The package's parity fixture, with copies of its images so that the C# tests are self-contained.
    `cross_attentions`: the cases expect the explanation outputs that `export_package` writes."""
    images = []
    for i, source in enumerate(PARITY_IMAGES):
        images.append((f"image-{i}.png", load_image(source, model.config.image_size)))
    ids = token_ids(tokenizer)
    fixture = write_parity_fixture(
        model,
        name,
        directory,
        images,
        start_id=ids["decoder_start_token_id"],
        end_id=ids["eos_token_id"],
        max_length=model.config.n_positions,
        decode=tokenizer.decode,
        prompt_ids=tokenizer.encode("a red square")[:-1],  # [CLS] a red square, without [SEP]
        fusion_texts=PARITY_TEXTS,
        fusion_rows=[tokenizer.encode(text) for text in PARITY_TEXTS],
        pad_id=tokenizer.pad_id,
        image_cache=True,
        cross_attentions=cross_attentions,
    )
    for (file_name, _), source in zip(images, PARITY_IMAGES):
        shutil.copyfile(source, directory / file_name)
    texts = (*PARITY_TEXTS, "There is a RED square.", "a purple square .")  # case folding, punctuation, [UNK]
    write_tokenizer_cases(directory, [(text, tokenizer.encode(text)) for text in texts])
    return fixture


def write_greedy_captions(evaluation: dict, directory: Path) -> int:
    """PyTorch's greedy caption of every shared image, from `evaluate`'s results, beside the parity
    fixture: transformers.js must reproduce them (tests/peer/check-parity.sh)."""
    captions = {key: caption for row in evaluation["sets"] for key, caption in row["captions"].items()}
    write_json(directory / "greedy_captions.json", dict(sorted(captions.items())))
    return len(captions)


def read_json(path: Path | None) -> dict | None:
    return None if path is None else json.loads(path.read_text(encoding="utf-8"))
