"""The decoder stage: a package's caption decoder trained further on new scenes, over its image
encoder, which stays frozen (or, with train_encoder, learns too); the scorer is kept as it is, so
with a frozen encoder agreement cannot move.

Tried for caption truth (issue 16), not shipped: the bundled decoder is stage 1's. Its greedy
captions are about as often false on the generator's own scenes as on the published ones, so the
gap is not the published images' rendering. Most false captions relate two present objects along
the wrong axis (the horizontal extremes where their vertical offset is nearly as large); the rest
name a colour and shape the scene lacks, which the frozen encoder decides. The configs in
configs/experiments/decoder-*.json are the four runs the model card reports: the same rule
trained further, the rule "clearest-extremes" (language.generate.describe) for 1,500 and 3,000
steps, and that rule with the encoder learning too (decoder-encoder-clearest.json).

  PYTHONPATH=src /usr/bin/python3 -m training decoder-stage --package models/shapeworld-fusion \\
      --config src/training/configs/experiments/decoder-clearest.json --out runs/decoder-clearest
then `evaluate` and `export` with runs/decoder-clearest/checkpoint.pt, as after `train`.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .data import world_seed
from .language.generate import describe
from .model import CaptionFusionModel
from .package_weights import load_package_model
from .pixels import pixel_values
from .relational_stage import encoder_tokens, how_it_ran, learning_rate, model_device, save_stage, source_name
from .render import render
from .tokenizer import WordTokenizer
from .world import World, sample_world


@dataclass
class DecoderStageConfig:
    seed: int = 9100  # world i of the stage uses world_seed(seed, i): not the bank's 1234 or the scorer stages'
    worlds: int = 20000
    min_entities: int = 1
    max_entities: int = 15  # as the first stage's bank (configs/default.json)
    steps: int = 1500
    batch_size: int = 64  # captions per step, each with its own scene
    learning_rate: float = 1e-3
    min_learning_rate: float = 1e-5
    warmup_steps: int = 100
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    log_every: int = 100
    caption_rule: str = "extremes"  # language.generate.CAPTION_RULES: the target the decoder learns
    # The image encoder learns with the decoder (its BatchNorm statistics kept): the route to
    # captions naming objects the frozen encoder misreads. Its tokens then change under the
    # package's scorer, so a package from such a stage needs the scorer stages run again.
    train_encoder: bool = False

    @classmethod
    def read(cls, path: Path) -> "DecoderStageConfig":
        return cls(**json.loads(path.read_text())["stage"])


def stage_worlds(config: DecoderStageConfig) -> list[World]:
    worlds = []
    for index in range(config.worlds):
        rng = random.Random(world_seed(config.seed, index))
        entities = rng.randint(config.min_entities, config.max_entities)
        worlds.append(sample_world(rng, min_entities=entities, max_entities=entities))
    return worlds


def caption_rows(worlds: list[World], tokenizer: WordTokenizer, rule: str = "extremes") -> torch.Tensor:
    """Each world's describe() caption under `rule` as `[CLS] words [SEP]`, right-padded (W, L)."""
    ids, _ = tokenizer.pad([tokenizer.encode(describe(w, rule)) for w in worlds])
    return ids


def scene_inputs(model: CaptionFusionModel, worlds: list[World], config: DecoderStageConfig, log) -> torch.Tensor:
    """What the stage keeps of each scene, on the CPU: the frozen encoder's tokens (W, N, D), or
    with train_encoder the rendered images (W, H, W, 3 uint8) that the encoder reads at each step."""
    if config.train_encoder:
        return torch.from_numpy(np.stack([render(w, size=model.config.image_size) for w in worlds]))
    return encoder_tokens(model, worlds, log)


def train_decoder(model: CaptionFusionModel, scenes: torch.Tensor, captions: torch.Tensor, config: DecoderStageConfig,
                  pad_id: int, log) -> float:
    """Teacher-forced caption loss on scene_inputs (W, ...); the decoder's parameters move, and with
    train_encoder the encoder's, on the model's device (the scenes stay on the CPU). Returns the
    mean loss of the last steps."""
    torch.manual_seed(1)
    decoder = model.decoder
    device = model_device(decoder)
    trained = list(decoder.parameters()) + (list(model.encoder.parameters()) if config.train_encoder else [])
    optimizer = torch.optim.AdamW(trained, lr=config.learning_rate, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(2)
    started = time.time()
    last: list[float] = []
    decoder.train()
    for step in range(1, config.steps + 1):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, step)
        rows = torch.randint(0, len(captions), (config.batch_size,), generator=generator)
        ids = captions[rows]
        ids = ids[:, : int((ids != pad_id).sum(1).max())].to(device)  # (B, L) no all-padding columns
        batch = scenes[rows].to(device)
        image = model.encoder(pixel_values(batch)) if config.train_encoder else batch.float()  # (B, N, D)
        logits, _ = decoder(ids[:, :-1], image)  # (B, L - 1, V)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1), ignore_index=pad_id)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, config.grad_clip)
        optimizer.step()
        last = (last + [loss.item()])[-100:]
        if step % config.log_every == 0 or step == config.steps:
            log(f"decoder step {step}/{config.steps}: loss {loss.item():.4f} ({time.time() - started:.0f} s)")
    model.eval()
    return sum(last) / len(last)


def run(package: Path, config: DecoderStageConfig, out: Path, config_path: Path | None = None, command: str = "", log=print,
        device: str = "cpu") -> CaptionFusionModel:
    """Trains the stage on `device` (cpu or cuda, as `train --device`)."""
    started = time.time()
    device = torch.device(device)
    model, vocabulary = load_package_model(package)
    model.eval().to(device)  # eval: the encoder's BatchNorm keeps the package's statistics
    tokenizer = WordTokenizer(vocabulary)
    worlds = stage_worlds(config)
    captions = caption_rows(worlds, tokenizer, config.caption_rule)
    log(f"{len(worlds)} scenes and their captions ({time.time() - started:.0f} s)")
    loss = train_decoder(model, scene_inputs(model, worlds, config, log), captions, config, tokenizer.pad_id, log)
    minutes = (time.time() - started) / 60
    source = source_name(package)
    title = (f"the caption decoder and image encoder of {source}, trained further together" if config.train_encoder
             else f"the caption decoder of {source}, trained further over its frozen image encoder")
    kept = (f"- The encoder is {source}'s, trained with the decoder (its BatchNorm statistics kept); the scorer is "
            f"{source}'s, unchanged, so it reads tokens it was not trained on: run the scorer stages again before shipping."
            if config.train_encoder else f"- The encoder and the scorer are {source}'s, unchanged.")
    save_stage(package, out, model, vocabulary, config, title, [
        f"- {config.steps:,} steps of {config.batch_size} generated scenes' captions (teacher forcing), "
        f"{how_it_ran(minutes, config.seed, device)}; {config.worlds:,} generated scenes of {config.min_entities} to "
        f"{config.max_entities} objects (never the published ShapeWorld example worlds), captioned by the rule "
        f"\"{config.caption_rule}\".",
        kept,
        f"- Stage config: `{config_path}`. Final caption loss: {loss:.4f}.",
        f"- Command: `{command}`",
    ], minutes, log)
    return model
