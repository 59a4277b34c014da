"""The decoder stage: only the caption decoder moves, on new scenes' describe() captions."""
from __future__ import annotations

from pathlib import Path

import torch

from training.checkpoint import load_checkpoint
from training.decoder_stage import DecoderStageConfig, caption_rows, run, stage_worlds
from training.language.generate import describe
from training.package_weights import load_package_model
from training.tokenizer import WordTokenizer
from training.vocab import vocabulary

PACKAGE = Path(__file__).resolve().parents[2] / "models" / "shapeworld-fusion"


def test_captions_are_the_worlds_describe_rows():
    tokenizer = WordTokenizer(vocabulary())
    worlds = stage_worlds(DecoderStageConfig(worlds=5, max_entities=4))
    rows = caption_rows(worlds, tokenizer)
    assert [tokenizer.decode(row[1:]) for row in rows.tolist()] == [describe(w) for w in worlds]
    assert all(1 <= len(w.entities) <= 4 for w in worlds)


def test_a_stage_moves_the_decoder_and_nothing_else(tmp_path):
    config = DecoderStageConfig(worlds=16, steps=3, batch_size=4, warmup_steps=1, log_every=1)
    run(PACKAGE, config, tmp_path, command="decoder-stage test", log=lambda _: None)
    source, _ = load_package_model(PACKAGE)
    trained, _, state = load_checkpoint(tmp_path / "checkpoint.pt")

    for part in ("encoder", "fusion"):
        for name, weight in getattr(source, part).state_dict().items():
            assert torch.equal(getattr(trained, part).state_dict()[name], weight), f"{part}.{name}"
    assert any(not torch.equal(trained.decoder.state_dict()[name], weight) for name, weight in source.decoder.state_dict().items())
    assert state["training"]["stages"][-1]["title"].startswith("the caption decoder of shapeworld-fusion ")
    assert state["stage"]["steps"] == 3


def test_a_stage_that_trains_the_encoder_moves_it_and_keeps_its_batch_statistics(tmp_path):
    config = DecoderStageConfig(worlds=16, steps=3, batch_size=4, warmup_steps=1, log_every=1, train_encoder=True)
    run(PACKAGE, config, tmp_path, command="decoder-stage test", log=lambda _: None)
    source, _ = load_package_model(PACKAGE)
    trained, _, state = load_checkpoint(tmp_path / "checkpoint.pt")

    for name, weight in source.fusion.state_dict().items():
        assert torch.equal(trained.fusion.state_dict()[name], weight), f"fusion.{name}"
    encoder = trained.encoder.state_dict()
    statistics = [name for name in encoder if "running_" in name]
    assert statistics, "the encoder has BatchNorm statistics"
    for name in statistics:
        assert torch.equal(encoder[name], source.encoder.state_dict()[name]), name
    assert any(not torch.equal(encoder[name], weight) for name, weight in source.encoder.state_dict().items() if "running_" not in name)
    assert any(not torch.equal(trained.decoder.state_dict()[name], weight) for name, weight in source.decoder.state_dict().items())
    assert state["training"]["stages"][-1]["title"].startswith("the caption decoder and image encoder of shapeworld-fusion ")
