"""Multi-task training: caption language modelling plus true/false statement matching.

  /usr/bin/python3 -m training train --config src/training/configs/default.json --out runs/default

Each step encodes B images once; the decoder learns each image's canonical caption (teacher
forcing) and the fusion scorer learns to tell true statements about it from minimally edited
false ones. Two things come first, because without them matching stayed at chance: the image
encoder alone learns what is under each image token (the probe losses), so that the text heads
start from tokens that already say colour, shape and where objects are; then a curriculum starts
on scenes with few shapes, where grounding words in the image is easy, and widens to all scenes
(NOTES: pretraining on simpler instances helps relations).
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch.nn import functional as F

from .checkpoint import load_checkpoint, save_checkpoint
from .data import DataConfig, WorldBank, generate_bank, make_batch, rules_digest, trim
from .model import CaptionFusionModel, ModelConfig
from .pixels import pixel_values
from .tokenizer import WordTokenizer


@dataclass
class TrainConfig:
    seed: int = 1  # model initialisation and batch sampling
    steps: int = 6000  # optimiser steps (the most, when a time budget ends the run sooner)
    # Wall-clock budget in minutes, or None. When set, the schedule's progress is the larger of
    # step / steps and elapsed / budget, so warm-up and cosine decay finish when the time does on a
    # shared machine of unknown speed. The batches stay seeded; the stopping step (recorded in the
    # checkpoint) depends on the machine's speed.
    time_budget_minutes: float | None = None
    batch_size: int = 32  # B: images per step
    match_per_image: int = 4  # statements scored per image per step (about half true)
    learning_rate: float = 1e-3  # peak, after warm-up
    min_learning_rate: float = 5e-5  # end of the cosine decay
    warmup_steps: int = 200  # linear warm-up from 0
    weight_decay: float = 0.05  # AdamW, on matrices only
    grad_clip: float = 1.0  # global norm
    lm_weight: float = 1.0  # caption loss weight
    match_weight: float = 1.0  # matching loss weight
    probe_weight: float = 0.5  # grid probe loss weight (what is under each image token, noun-phrase mentions)
    # (fraction of the steps, most entities per scene) pairs: before each fraction, scenes are capped.
    curriculum: list[list[float]] = field(default_factory=lambda: [[0.1, 3], [0.2, 6]])
    # Steps at the start that train only the image encoder, on the probe losses. A multi-task run
    # without them named the shape under 39% of the object tokens at step 1000 and its matching
    # was at chance; the encoder alone reached 75% at step 1000, with steps three times cheaper.
    encoder_steps: int = 0
    validation_worlds: int = 512  # the bank's last worlds, never trained on
    log_every: int = 25  # steps between progress lines
    checkpoint_every: int = 250  # steps between checkpoints (a partial run stays usable)
    threads: int = 2  # torch CPU threads
    # A checkpoint whose weights this run starts from (a second stage with other data); the
    # optimiser, schedule and step count start afresh. Relative paths are from the working directory.
    init_checkpoint: str | None = None

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        return cls(**values)


def read_config(path: Path) -> tuple[ModelConfig, DataConfig, TrainConfig]:
    values = json.loads(path.read_text(encoding="utf-8"))
    return (
        ModelConfig.from_dict(values.get("model", {})),
        DataConfig.from_dict(values.get("data", {})),
        TrainConfig.from_dict(values.get("train", {})),
    )


def schedule_progress(config: TrainConfig, step: int, elapsed_seconds: float) -> float:
    """0 at the start, 1 at the end of the run (by steps, or by time when a budget is set)."""
    progress = step / config.steps
    if config.time_budget_minutes:
        progress = max(progress, elapsed_seconds / (60 * config.time_budget_minutes))
    return min(1.0, progress)


def learning_rate(config: TrainConfig, step: int, progress: float) -> float:
    """Linear warm-up over the first warmup_steps, then cosine decay to min_learning_rate at progress 1."""
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    warmup_progress = config.warmup_steps / config.steps
    decay = (progress - warmup_progress) / max(1e-9, 1.0 - warmup_progress)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, max(0.0, decay))))
    return config.min_learning_rate + (config.learning_rate - config.min_learning_rate) * cosine


def entity_cap(config: TrainConfig, progress: float) -> int | None:
    for fraction, cap in config.curriculum:
        if progress < fraction:
            return int(cap)
    return None


TEXT_HEADS = ("decoder.", "fusion.", "probe.mentions.")  # parameters that the encoder-only steps leave alone


def make_optimizer(model: CaptionFusionModel, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices and convolution kernels only (not on biases, norms,
    positions), in groups that say whether the parameters belong to the text heads."""
    groups = []
    for text_heads in (False, True):
        for decayed in (True, False):
            params = [
                p
                for n, p in model.named_parameters()
                if n.startswith(TEXT_HEADS) == text_heads
                and (p.dim() >= 2 and "position" not in n and "wpe" not in n) == decayed
            ]
            weight_decay = config.weight_decay if decayed else 0.0
            groups.append({"params": params, "weight_decay": weight_decay, "text_heads": text_heads})
    return torch.optim.AdamW(groups, lr=config.learning_rate, betas=(0.9, 0.98))


def text_head_warmup(config: TrainConfig, step: int) -> float:
    """The text heads' learning-rate factor: after encoder-only steps they warm up afresh. Started
    at the full rate instead, their attention scores grew to a standard deviation of 10-23 within
    500 steps and matching stayed at chance (saturated softmax); the same scorer warmed up on
    perfect image tokens learnt."""
    if config.encoder_steps <= 0:
        return 1.0
    return min(1.0, max(0.0, (step - config.encoder_steps + 1) / config.warmup_steps))


def object_loss(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Centre flags everywhere; area and shade only where a centre is. Both (B, N, 3)."""
    centres = target[..., 0] > 0  # (B, N)
    flags = F.binary_cross_entropy_with_logits(predicted[..., 0], target[..., 0])
    return flags + F.mse_loss(predicted[..., 1:][centres], target[..., 1:][centres])


def image_probe_loss(colors, shapes, objects, batch) -> torch.Tensor:
    """What is under each image token: colour, shape, object centre with its area and shade."""
    return (
        F.cross_entropy(colors.flatten(0, 1), batch.cell_colors.flatten())
        + F.cross_entropy(shapes.flatten(0, 1), batch.cell_shapes.flatten())
        + object_loss(objects, batch.cell_objects)
    )


def encoder_loss(model: CaptionFusionModel, batch) -> torch.Tensor:
    """The probe losses on the image tokens alone (the encoder-only steps)."""
    return image_probe_loss(*model.probe(model.encoder(pixel_values(batch.images))), batch)


def losses(model: CaptionFusionModel, batch, pad_id: int):
    pixels = pixel_values(batch.images)  # (B, 3, H, W)
    inputs, targets = batch.caption_ids[:, :-1], batch.caption_ids[:, 1:]  # (B, T) each
    caption_logits, match_logits, (colors, shapes, objects, mentions) = model(pixels, inputs, batch.match_ids, batch.match_mask)
    lm = F.cross_entropy(caption_logits.reshape(-1, caption_logits.size(-1)), targets.reshape(-1), ignore_index=pad_id)
    match = F.binary_cross_entropy_with_logits(match_logits, batch.match_labels)
    phrases = batch.mention_targets >= 0  # (M, L)
    probe = image_probe_loss(colors, shapes, objects, batch) + F.binary_cross_entropy_with_logits(
        mentions[phrases], batch.mention_targets[phrases]
    )
    correct = (match_logits >= 0).float() == batch.match_labels  # (M,)
    return lm, match, probe, correct


@torch.no_grad()
def validate(model: CaptionFusionModel, bank: WorldBank, pad_id: int, device: torch.device = torch.device("cpu"),
             batch_size: int = 64) -> dict:
    """Matching accuracy per statement form (every stored statement once) and caption LM loss on
    the held-out worlds."""
    model.eval()
    totals: dict[str, list[int]] = {}
    lm_sum, batches = 0.0, 0
    for start in range(0, len(bank), batch_size):
        worlds = torch.arange(start, min(start + batch_size, len(bank)))
        image = model.encoder(pixel_values(bank.images[worlds].to(device)))  # (B, N, D)
        captions = trim(bank.caption_ids[worlds], pad_id).to(device)  # (B, L)
        logits, _ = model.decoder(captions[:, :-1], image)  # (B, L - 1, V)
        lm = F.cross_entropy(logits.reshape(-1, logits.size(-1)), captions[:, 1:].reshape(-1), ignore_index=pad_id)
        lm_sum, batches = lm_sum + float(lm), batches + 1
        valid = bank.match_valid[worlds]  # (B, K)
        image_rows = torch.arange(len(worlds))[:, None].expand_as(valid)[valid]  # (M,)
        ids = trim(bank.match_ids[worlds][valid], pad_id).to(device)  # (M, L')
        match_logits = model.match(ids, (ids != pad_id).long(), image[image_rows.to(device)])  # (M,)
        correct = (match_logits >= 0).float().cpu() == bank.match_labels[worlds][valid]  # (M,)
        for form_index, ok in zip(bank.match_forms[worlds][valid].tolist(), correct.tolist()):
            counts = totals.setdefault(bank.forms[form_index], [0, 0])
            counts[0] += int(ok)
            counts[1] += 1
    model.train()
    accuracy = {form: right / total for form, (right, total) in sorted(totals.items())}
    overall = sum(r for r, _ in totals.values()) / max(1, sum(t for _, t in totals.values()))
    return {"lm_loss": lm_sum / max(1, batches), "match_accuracy": overall, "match_accuracy_by_form": accuracy}


def device_description(device: torch.device, threads: int) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA), PyTorch {torch.__version__}"
    return f"CPU, {threads} threads, PyTorch {torch.__version__}"


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def initial_weights(model: CaptionFusionModel, path: Path, tokenizer: WordTokenizer, log) -> None:
    """Loads a checkpoint's weights into `model`. Only parts the checkpoint's config did not have
    (where-evidence, zero at the start) may be missing; every stored weight must fit."""
    state = torch.load(path, map_location="cpu")
    if state["vocabulary"] != tokenizer.vocabulary:
        raise ValueError(f"{path} has another vocabulary than this run")
    try:
        missing, unexpected = model.load_state_dict(state["model"], strict=False)
    except RuntimeError as error:  # a weight of another shape
        raise ValueError(f"{path} has another model config than this run: {error}") from error
    added = [k for k in missing if ".where." not in k]
    if added or unexpected:
        raise ValueError(f"{path} has another model config than this run: missing {added}, unexpected {unexpected}")
    log(f"starting from the weights of {path} (step {state['step']})" + (f"; new: {', '.join(missing)}" if missing else ""))


def train(
    config_path: Path,
    out: Path,
    bank_path: Path | None = None,
    resume: bool = False,
    command: str = "",
    device: str = "cpu",
    log=print,
) -> Path:
    model_config, data_config, config = read_config(config_path)
    torch.set_num_threads(config.threads)
    device = torch.device(device)
    out.mkdir(parents=True, exist_ok=True)
    bank_path = bank_path or out / "bank.pt"
    if bank_path.exists():
        bank = WorldBank.load(bank_path)
        # Options added later are missing from older banks' configs and default to what those
        # banks were made with.
        if asdict(DataConfig.from_dict(bank.config)) != asdict(data_config):
            raise ValueError(f"{bank_path} was generated with another data config; delete it or pass --bank")
        today = rules_digest()
        if bank.rules != today:
            raise ValueError(f"{bank_path} was generated by other scene or caption rules (digest {bank.rules or 'not recorded'}, "
                             f"today's {today}); delete it to generate it anew, or pass --bank")
    else:
        bank = generate_bank(data_config, log=log)
        bank.save(bank_path)
    tokenizer = WordTokenizer(bank.vocabulary)
    model_config.vocab_size = len(tokenizer)
    model_config.n_positions = max(model_config.n_positions, data_config.max_length)

    held_out = min(config.validation_worlds, len(bank) // 10)
    train_bank = bank.subset(torch.arange(0, len(bank) - held_out))
    validation_bank = bank.subset(torch.arange(len(bank) - held_out, len(bank)))
    # Worlds sorted by entity count, so that a curriculum stage samples a prefix.
    by_entities = torch.argsort(train_bank.entity_counts, stable=True)
    sorted_counts = train_bank.entity_counts[by_entities]

    torch.manual_seed(config.seed)
    random.seed(config.seed)
    model = CaptionFusionModel(model_config)
    if config.init_checkpoint:
        initial_weights(model, Path(config.init_checkpoint), tokenizer, log)
    model = model.to(device)
    optimizer = make_optimizer(model, config)
    checkpoint_path = out / "checkpoint.pt"
    start_step, history, previous_wall = 0, [], 0.0
    if resume and checkpoint_path.exists():
        model, _, state = load_checkpoint(checkpoint_path)
        model = model.to(device)
        optimizer = make_optimizer(model, config)
        optimizer.load_state_dict(state["optimizer"])
        start_step, history = state["step"], state["history"]
        previous_wall = state["training"]["wall_minutes"] * 60
        log(f"resumed from {checkpoint_path} at step {start_step}")
    model.train()
    log(
        f"model {model.num_parameters():,} parameters | bank {len(train_bank):,} train + {len(validation_bank)} "
        f"validation worlds | forms {bank.forms} | {config.steps} steps of {config.batch_size}"
    )

    def save(step: int, final_losses: tuple[float, float], wall: float) -> None:
        save_checkpoint(
            checkpoint_path,
            model,
            tokenizer.vocabulary,
            optimizer=optimizer.state_dict(),
            step=step,
            history=history,
            train_config=asdict(config),
            data_config=asdict(data_config),
            training={
                "command": command,
                "config_path": str(config_path),
                "steps": step,
                "batch_size": config.batch_size,
                "samples": step * config.batch_size,
                "seed": config.seed,
                "bank_worlds": len(bank),
                "bank_rules": bank.rules,
                "final_lm_loss": final_losses[0],
                "final_match_loss": final_losses[1],
                "wall_minutes": wall / 60,
                "device": device_description(device, config.threads),
            },
        )

    started = time.time()
    window = {"lm": 0.0, "match": 0.0, "probe": 0.0, "grad_norm": 0.0, "correct": 0, "count": 0, "steps": 0, "time": time.time()}
    lm_value = match_value = float("nan")
    step = start_step
    while step < config.steps:
        progress = schedule_progress(config, step, previous_wall + time.time() - started)
        if progress >= 1.0:
            break
        # The curriculum is for the text heads. The encoder-only steps see every scene: trained on
        # sparse scenes first, the encoder named the shape under 37% of the object tokens of all
        # scenes at step 800 (BatchNorm statistics and occlusion both differ in crowded scenes).
        cap = entity_cap(config, progress) if step >= config.encoder_steps else None
        pool = int(torch.searchsorted(sorted_counts, cap, right=True)) if cap is not None else len(by_entities)
        generator = torch.Generator().manual_seed(config.seed * 1_000_003 + step)  # same batches after a resume
        worlds = by_entities[torch.randint(0, pool, (config.batch_size,), generator=generator)]
        batch = make_batch(train_bank, worlds, config.match_per_image, generator, tokenizer.pad_id).to(device)

        rate = learning_rate(config, step, progress)
        for group in optimizer.param_groups:
            group["lr"] = rate * (text_head_warmup(config, step) if group["text_heads"] else 1.0)
        if step < config.encoder_steps:
            probe = encoder_loss(model, batch)
            lm = match = torch.tensor(float("nan"))
            correct = torch.zeros(0, dtype=torch.bool, device=device)
            loss = probe
        else:
            lm, match, probe, correct = losses(model, batch, tokenizer.pad_id)
            loss = config.lm_weight * lm + config.match_weight * match + config.probe_weight * probe
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()

        window["lm"] += float(lm)
        window["match"] += float(match)
        window["probe"] += float(probe)
        window["correct"] += int(correct.sum())
        window["count"] += correct.numel()
        window["steps"] += 1
        window["grad_norm"] += float(grad_norm)
        step = done = step + 1
        last = done == config.steps or schedule_progress(config, done, previous_wall + time.time() - started) >= 1.0
        if done % config.log_every == 0 or last:
            elapsed = time.time() - window["time"]
            lm_value, match_value = window["lm"] / window["steps"], window["match"] / window["steps"]
            rate_per_s = window["steps"] * config.batch_size / elapsed
            eta = (config.steps - done) * elapsed / window["steps"]
            if config.time_budget_minutes:
                eta = min(eta, 60 * config.time_budget_minutes - (previous_wall + time.time() - started))
            history.append({"step": done, "lm_loss": lm_value, "match_loss": match_value, "lr": rate})
            log(
                f"step {done}/{config.steps} | lm {lm_value:.3f} | match {match_value:.3f} "
                f"acc {100 * window['correct'] / max(1, window['count']):.1f}% | probe {window['probe'] / window['steps']:.3f} "
                f"| {rate_per_s:.1f} samples/s "
                f"| lr {rate:.2e} | grad norm {window['grad_norm'] / window['steps']:.2f} | scenes <= {cap or 'all'} "
                f"| eta {format_duration(eta)}"
            )
            window = {"lm": 0.0, "match": 0.0, "probe": 0.0, "grad_norm": 0.0, "correct": 0, "count": 0, "steps": 0, "time": time.time()}
        if done % config.checkpoint_every == 0 or last:
            if done > config.encoder_steps or last:  # before, the text heads are untrained
                result = validate(model, validation_bank, tokenizer.pad_id, device)
                history.append({"step": done, "validation": result})
                by_form = " ".join(f"{form} {100 * acc:.1f}%" for form, acc in result["match_accuracy_by_form"].items())
                log(f"validation step {done} | lm {result['lm_loss']:.3f} | match acc {100 * result['match_accuracy']:.1f}% | {by_form}")
            save(done, (lm_value, match_value), previous_wall + time.time() - started)
            log(f"checkpoint {checkpoint_path} at step {done}")
    return checkpoint_path
