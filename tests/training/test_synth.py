"""`synth`: random-weight packages in vit-gpt2's shapes, with the published vit-gpt2 files."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import onnx
import pytest
import torch

from training.synth import GRAPH_FILES, PRESETS, REFERENCE_DIR, model_config_json, synthesize
from training.vit_gpt2 import VitGpt2

MINI = PRESETS["vit-gpt2-mini"]


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("synth") / "mini"
    synthesize("vit-gpt2-mini", directory, seed=3, image_cache=True)
    return directory


def dims(value_info) -> list:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def interface(package: Path, role: str) -> tuple[dict, dict]:
    model = onnx.load(str(package / GRAPH_FILES[role]))
    onnx.checker.check_model(model, full_check=True)
    return {i.name: dims(i) for i in model.graph.input}, {o.name: dims(o) for o in model.graph.output}


def json_file(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_base_preset_has_the_published_shapes():
    # Every size synth writes into config.json is already the published value: nothing changes.
    assert model_config_json(PRESETS["vit-gpt2-base"]) == json_file(REFERENCE_DIR / "config.json")
    assert PRESETS["vit-gpt2-base"].image_tokens == 197


def test_files_come_from_the_reference_except_the_weights(package):
    for name in ("generation_config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json"):
        assert (package / name).read_bytes() == (REFERENCE_DIR / name).read_bytes(), name
    config = json_file(package / "config.json")
    assert config["decoder"] | {"n_layer": 12, "n_head": 12, "n_embd": 768} == json_file(REFERENCE_DIR / "config.json")["decoder"]
    assert (config["decoder"]["n_layer"], config["decoder"]["n_head"], config["decoder"]["n_embd"]) == (2, 2, 128)
    assert (config["encoder"]["num_hidden_layers"], config["encoder"]["hidden_size"], config["encoder"]["intermediate_size"]) == (2, 128, 512)
    assert "random weights (seed 3)" in (package / "MODEL_CARD.md").read_text(encoding="utf-8").lower()


def test_vocab_and_merges_are_derived_from_tokenizer_json(package):
    model = json_file(REFERENCE_DIR / "tokenizer.json")["model"]
    vocab = json_file(package / "vocab.json")
    merges = (package / "merges.txt").read_text(encoding="utf-8").splitlines()
    assert vocab == model["vocab"] and len(vocab) == 50257 and vocab["<|endoftext|>"] == 50256
    assert merges[0] == "#version: 0.2" and merges[1:] == model["merges"] and len(merges) == 50001


def test_manifest_names_each_graph_with_its_digest(package):
    manifest = json_file(package / "caption_service.json")
    assert manifest["name"] == "vit-gpt2-mini" and manifest["version"] == "0.0.0-synthetic.3"
    for role, graph in manifest["graphs"].items():
        assert graph["file"] == GRAPH_FILES[role]
        assert graph["sha256"] == hashlib.sha256((package / graph["file"]).read_bytes()).hexdigest()
    assert manifest["decoder"]["use_cache_branch"] is None  # the names describe the cached decoder, which has none
    assert manifest["tokenizer"] == {"kind": "bpe", "vocab": "vocab.json", "merges": "merges.txt", "lowercase": False, "max_length": 1024}
    assert set(manifest["image_cache"]) == {"encoder_hidden_states", "key", "value"}


def test_encoder_is_a_vit_over_224_pixels(package):
    inputs, outputs = interface(package, "encoder")
    assert inputs == {"pixel_values": ["batch_size", 3, 224, 224]}
    assert outputs == {"last_hidden_state": ["batch_size", 197, 128]}


def test_decoder_is_the_optimum_merged_layout(package):
    inputs, outputs = interface(package, "decoder")
    past = {f"past_key_values.{i}.{kind}": ["batch_size", 2, "past_sequence_length", 64] for i in range(2) for kind in ("key", "value")}
    assert inputs == {
        "input_ids": ["batch_size", "decoder_sequence_length"],
        "encoder_hidden_states": ["batch_size", "encoder_sequence_length", 128],
        **past,
        "use_cache_branch": [1],
    }
    present = {f"present.{i}.{kind}": ["batch_size", 2, "past_sequence_length + decoder_sequence_length", 64] for i in range(2) for kind in ("key", "value")}
    assert outputs == {"logits": ["batch_size", "decoder_sequence_length", 50257], **present}


def test_image_cache_pair_is_optional_and_complete(package):
    inputs, outputs = interface(package, "image_cache")
    assert list(outputs) == [f"image_key_values.{i}.{kind}" for i in range(2) for kind in ("key", "value")]
    inputs, _ = interface(package, "cached_decoder")
    assert "encoder_hidden_states" not in inputs and "use_cache_branch" not in inputs and "image_key_values.1.value" in inputs
    # Rows at different positions share a step (the server's continuous batching).
    assert inputs["attention_mask"] == ["batch_size", "past_sequence_length + decoder_sequence_length"]
    assert inputs["position_ids"] == ["batch_size", "decoder_sequence_length"]


def test_a_left_padded_row_decodes_as_it_would_alone():
    # What the server does when a request joins a running batch: its cache is left-padded to the
    # batch's length and masked, and its positions are its own.
    torch.manual_seed(5)
    decoder = VitGpt2(MINI).eval().decoder
    image = torch.randn(2, MINI.image_tokens, MINI.n_embd)
    cache = decoder.image_keys_values(image)
    with torch.no_grad():
        long_logits, long_past = decoder(torch.tensor([[50256, 11, 12, 13]]), None, image_keys_values=[(k[:1], v[:1]) for k, v in cache])
        alone, _ = decoder(torch.tensor([[50256]]), None, image_keys_values=[(k[1:], v[1:]) for k, v in cache])
        padded_past = [(torch.cat([k, torch.zeros_like(k)]), torch.cat([v, torch.zeros_like(v)])) for k, v in long_past]
        merged, _ = decoder(
            torch.tensor([[14], [50256]]), None, padded_past, image_keys_values=cache,
            attention_mask=torch.tensor([[1, 1, 1, 1, 1], [0, 0, 0, 0, 1]]), position_ids=torch.tensor([[4], [0]]),
        )
        longer, _ = decoder(torch.tensor([[50256, 11, 12, 13, 14]]), None, image_keys_values=[(k[:1], v[:1]) for k, v in cache])
    torch.testing.assert_close(merged[1, -1], alone[0, -1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(merged[0, -1], longer[0, -1], rtol=1e-5, atol=1e-5)


def test_without_the_image_cache_the_manifest_names_use_cache_branch(tmp_path):
    from training.synth import manifest

    for role in ("encoder", "decoder"):
        (tmp_path / GRAPH_FILES[role]).parent.mkdir(exist_ok=True)
        (tmp_path / GRAPH_FILES[role]).write_bytes(b"")
    result = manifest(tmp_path, "vit-gpt2-mini", 0, MINI, image_cache=False)
    assert list(result["graphs"]) == ["encoder", "decoder"] and "image_cache" not in result
    assert result["decoder"]["use_cache_branch"] == "use_cache_branch"


def test_weights_are_deterministic_for_a_seed():
    def state(seed: int) -> dict:
        torch.manual_seed(seed)
        return VitGpt2(MINI).state_dict()

    first, again, other = state(1), state(1), state(2)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not torch.equal(first["decoder.wte.weight"], other["decoder.wte.weight"])


def test_a_directory_that_is_not_a_package_is_not_replaced(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ValueError, match="refusing"):
        synthesize("vit-gpt2-mini", tmp_path)
    assert (tmp_path / "notes.txt").is_file()
