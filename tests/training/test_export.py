"""Export round trip on a tiny model: files, graph interfaces (models/README.md), manifest digests."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from training.export import GRAPH_FILES, export_package, export_parity
from training.model import CaptionFusionModel, ModelConfig
from training.onnx_graphs import CacheBranchDecoderGraph, CachedImageDecoderGraph, DecoderGraph, ImageCacheGraph
from training.tokenizer import WordTokenizer
from training.vocab import vocabulary

TINY = dict(cnn_channels=(8, 16), n_embd=32, n_head=2, n_encoder_layer=1, n_decoder_layer=2, n_fusion_layer=1,
            where_evidence=True)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    tokenizer = WordTokenizer(vocabulary())
    model = CaptionFusionModel(ModelConfig(vocab_size=len(tokenizer), **TINY)).eval()
    return model, tokenizer


@pytest.fixture(scope="module")
def package(tiny, tmp_path_factory) -> Path:
    model, tokenizer = tiny
    directory = tmp_path_factory.mktemp("package") / "tiny"
    export_package(model, tokenizer, directory, "tiny", "0.1.0")
    return directory


def dims(value_info) -> list:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def graph(package: Path, role: str) -> onnx.GraphProto:
    model = onnx.load(str(package / GRAPH_FILES[role]))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 17
    return model.graph


def test_package_has_every_contract_file(package):
    for name in ("config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.json",
                 "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "caption_service.json",
                 "MODEL_CARD.md", *GRAPH_FILES.values()):
        assert (package / name).is_file(), name


def test_encoder_interface(package):
    g = graph(package, "encoder")
    assert [(i.name, dims(i)) for i in g.input] == [("pixel_values", ["batch_size", 3, 100, 100])]
    assert [(o.name, dims(o)) for o in g.output] == [("last_hidden_state", ["batch_size", "encoder_sequence_length", 32])]


def test_decoder_interface(package):
    g = graph(package, "decoder")
    inputs = {i.name: dims(i) for i in g.input}
    outputs = {o.name: dims(o) for o in g.output}
    assert list(inputs)[:2] == ["input_ids", "encoder_hidden_states"]
    assert "encoder_attention_mask" not in inputs
    assert inputs["input_ids"] == ["batch_size", "decoder_sequence_length"]
    for i in range(2):
        for kind in ("key", "value"):
            assert inputs[f"past_key_values.{i}.{kind}"] == ["batch_size", 2, "past_sequence_length", 16]
            assert outputs[f"present.{i}.{kind}"] == ["batch_size", 2, "past_sequence_length + decoder_sequence_length", 16]
    assert outputs["logits"] == ["batch_size", "decoder_sequence_length", len(vocabulary())]


def test_fusion_interface(package):
    g = graph(package, "fusion")
    assert [i.name for i in g.input] == ["input_ids", "attention_mask", "encoder_hidden_states"]
    assert [(o.name, dims(o)) for o in g.output] == [("logits", ["batch_size"])] + [
        (f"cross_attentions.{i}", ["batch_size", 2, "sequence_length", "encoder_sequence_length"]) for i in range(1)
    ]


def test_image_cache_interfaces(package):
    cache = graph(package, "image_cache")
    decoder = graph(package, "cached_decoder")
    keys_values = [f"image_key_values.{i}.{kind}" for i in range(2) for kind in ("key", "value")]
    assert [(i.name, dims(i)) for i in cache.input] == [("encoder_hidden_states", ["batch_size", "encoder_sequence_length", 32])]
    assert [(o.name, dims(o)) for o in cache.output] == [(n, ["batch_size", 2, "encoder_sequence_length", 16]) for n in keys_values]
    inputs = {i.name: dims(i) for i in decoder.input}
    assert "encoder_hidden_states" not in inputs
    assert [n for n in inputs if n.startswith("image_key_values.")] == keys_values
    assert {o.name for o in decoder.output} == {
        "logits", *(f"present.{i}.{kind}" for i in range(2) for kind in ("key", "value")), "cross_attentions.0", "cross_attentions.1"
    }
    attention = {o.name: dims(o) for o in decoder.output if o.name.startswith("cross_attentions.")}
    assert attention == {f"cross_attentions.{i}": ["batch_size", 2, "decoder_sequence_length", "encoder_sequence_length"] for i in range(2)}


def test_manifest_declares_the_explanation_outputs(package):
    manifest = json.loads((package / "caption_service.json").read_text())
    assert manifest["decoder"]["cross_attentions"] == "cross_attentions.{i}"
    assert manifest["fusion"]["cross_attentions"] == "cross_attentions.{i}"


def test_the_hugging_face_merged_decoder_keeps_its_outputs(package):
    assert not [o.name for o in graph(package, "decoder").output if o.name.startswith("cross_attentions.")]


def test_manifest_names_the_image_cache_tensors(package):
    manifest = json.loads((package / "caption_service.json").read_text())
    assert manifest["image_cache"] == {"encoder_hidden_states": "encoder_hidden_states",
                                       "key": "image_key_values.{i}.key", "value": "image_key_values.{i}.value"}


def test_manifest_digests_match_the_graphs(package):
    manifest = json.loads((package / "caption_service.json").read_text())
    for role, entry in manifest["graphs"].items():
        assert hashlib.sha256((package / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    assert manifest["decoder"]["use_cache_branch"] is None
    assert manifest["tokenizer"] == {"kind": "wordpiece", "vocab": "vocab.txt", "lowercase": True, "max_length": 32}


def test_token_ids_agree_across_files(package):
    config = json.loads((package / "config.json").read_text())
    generation = json.loads((package / "generation_config.json").read_text())
    vocab = (package / "vocab.txt").read_text().splitlines()
    assert config["model_type"] == "vision-encoder-decoder" and config["is_encoder_decoder"] is True
    assert config["decoder"]["model_type"] == "gpt2"
    for key in ("decoder_start_token_id", "bos_token_id", "eos_token_id", "pad_token_id"):
        assert generation[key] == config[key] == config["decoder"][key]
    assert vocab[generation["decoder_start_token_id"]] == "[CLS]"
    assert vocab[generation["eos_token_id"]] == "[SEP]"
    assert vocab[generation["pad_token_id"]] == "[PAD]"


def test_export_leaves_the_model_in_eval_mode(tiny, tmp_path):
    model, tokenizer = tiny
    export_package(model, tokenizer, tmp_path / "again", "tiny", "0.1.0")
    assert not any(m.training for m in model.modules())


def test_merged_decoder_with_an_empty_past_is_the_first_step(tiny):
    model, _ = tiny
    image = model.encoder(torch.randn(2, 3, 100, 100))
    ids = torch.tensor([[2], [2]])
    empty = [torch.zeros(2, 2, 0, 16) for _ in range(4)]
    with torch.no_grad():
        merged = DecoderGraph(model.decoder)(ids, image, *empty)
        first, _ = model.decoder(ids, image)
    assert torch.equal(merged[0], first)


def test_decoder_reading_the_image_cache_equals_the_merged_decoder(tiny):
    model, _ = tiny
    image = model.encoder(torch.randn(2, 3, 100, 100))
    ids = torch.tensor([[2, 5], [2, 7]])
    with torch.no_grad():
        cache = [t for pair in model.decoder.image_keys_values(image) for t in pair]
        assert [tuple(t.shape) for t in ImageCacheGraph(model.decoder)(image)] == [tuple(t.shape) for t in cache]
        past = [torch.zeros(2, 2, 0, 16) for _ in range(4)]
        cached = CachedImageDecoderGraph(model.decoder)(ids, *past, *cache)
        merged = DecoderGraph(model.decoder)(ids, image, *past)
    for a, b in zip(cached, merged):
        assert (a - b).abs().max() <= 1e-5


def test_cache_branch_flag_false_ignores_the_past(tiny):
    model, _ = tiny
    image = model.encoder(torch.randn(2, 3, 100, 100))
    ids = torch.tensor([[2], [2]])
    dummy = [torch.randn(2, 2, 1, 16) for _ in range(4)]
    graph = CacheBranchDecoderGraph(model.decoder)
    with torch.no_grad():
        ignored = graph(ids, image, *dummy, torch.tensor([False]))
        used = graph(ids, image, *dummy, torch.tensor([True]))
        first, _ = model.decoder(ids, image)
    assert torch.equal(ignored[0], first)
    assert ignored[1].shape[2] == 1 and used[1].shape[2] == 2


def test_parity_fixture_files_match_their_declared_shapes(tiny, tmp_path):
    model, tokenizer = tiny
    fixture = export_parity(model, tokenizer, "tiny", tmp_path / "parity")
    itemsize = {"float32": 4, "int64": 8, "bool": 1}
    names = {c["name"] for c in fixture["cases"]}
    assert {"encoder", "decoder_step0", "decoder_step1", "decoder_prompt", "fusion", "greedy"} <= names
    for case in fixture["cases"]:
        specs = [case["pixel_values"]] if case["graph"] == "pipeline" else [*case["inputs"].values(), *case["outputs"].values()]
        for spec in specs:
            size = (tmp_path / "parity" / spec["file"]).stat().st_size
            assert size == int(np.prod(spec["shape"])) * itemsize[spec["dtype"]]
    step1 = next(c for c in fixture["cases"] if c["name"] == "decoder_step1")
    assert step1["inputs"]["past_key_values.0.key"]["shape"][2] == 1
    assert step1["outputs"]["present.0.key"]["shape"][2] == 2
    greedy = next(c for c in fixture["cases"] if c["graph"] == "pipeline")
    assert len(greedy["expected_ids"]) == 2
    assert all(len(ids) <= greedy["max_length"] - 1 for ids in greedy["expected_ids"])
