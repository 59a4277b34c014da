"""A package's weights back in PyTorch: the bundled package, rebuilt, gives its parity fixture's outputs."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from training.package_weights import load_package_model

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "models" / "shapeworld-fusion"
FIXTURE = ROOT / "tests" / "fixtures" / "parity" / "shapeworld-fusion"


def tensor(spec: dict) -> torch.Tensor:
    return torch.from_numpy(np.fromfile(FIXTURE / spec["file"], dtype=spec["dtype"]).reshape(spec["shape"]))


def case(name: str) -> dict:
    return next(c for c in json.loads((FIXTURE / "cases.json").read_text())["cases"] if c["name"] == name)


@torch.no_grad()
def test_the_rebuilt_model_computes_what_the_exported_one_did():
    model, vocabulary = load_package_model(PACKAGE)
    assert vocabulary == (PACKAGE / "vocab.txt").read_text().splitlines()

    encoder = case("encoder")
    image = model.encoder(tensor(encoder["inputs"]["pixel_values"]))
    assert torch.allclose(image, tensor(encoder["outputs"]["last_hidden_state"]), atol=1e-4)

    step = case("decoder_step0")
    logits, _ = model.decoder(tensor(step["inputs"]["input_ids"]), tensor(step["inputs"]["encoder_hidden_states"]))
    assert torch.allclose(logits, tensor(step["outputs"]["logits"]), atol=1e-4)

    fusion = case("fusion")
    inputs = fusion["inputs"]
    scores = model.match(tensor(inputs["input_ids"]), tensor(inputs["attention_mask"]), tensor(inputs["encoder_hidden_states"]))
    assert torch.allclose(scores, tensor(fusion["outputs"]["logits"]), atol=1e-4)


@pytest.mark.parametrize("slot_reader", ["token", "peaks"])
@torch.no_grad()
def test_a_relational_package_round_trips(tmp_path, slot_reader):
    from training.export import export_package
    from training.model import CaptionFusionModel, ModelConfig
    from training.tokenizer import WordTokenizer
    from training.vocab import vocabulary

    torch.manual_seed(0)
    tokenizer = WordTokenizer(vocabulary())
    config = ModelConfig(vocab_size=len(tokenizer), cnn_channels=(8, 16), n_embd=32, n_head=2, n_encoder_layer=1,
                         n_decoder_layer=1, n_fusion_layer=1, fusion="relational", slot_reader=slot_reader)
    model = CaptionFusionModel(config).eval()
    export_package(model, tokenizer, tmp_path / "tiny", "tiny", "0.1.0")

    rebuilt, _ = load_package_model(tmp_path / "tiny")
    assert (rebuilt.config.fusion, rebuilt.config.slot_reader) == ("relational", slot_reader)
    ids, mask = tokenizer.pad([tokenizer.encode(t) for t in ("there is a red square .", "the leftmost shape is a circle .")])
    image = torch.randn(2, config.grid_size ** 2, config.n_embd)
    assert torch.allclose(rebuilt.match(ids, mask, image), model.match(ids, mask, image), atol=1e-5)
