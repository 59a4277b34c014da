"""Training: the smoke configuration's loss falls, runs are reproducible, the schedule is right."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from training.checkpoint import load_checkpoint
from training.data import WorldBank, rules_digest
from training.train import TrainConfig, entity_cap, learning_rate, read_config, schedule_progress, text_head_warmup, train

SMOKE = Path(__file__).resolve().parents[2] / "src" / "training" / "configs" / "smoke.json"


def quiet(*_):
    pass


def test_smoke_training_loss_falls(tmp_path):
    checkpoint = train(SMOKE, tmp_path / "smoke", log=quiet)
    model, tokenizer, state = load_checkpoint(checkpoint)
    losses = [h["lm_loss"] for h in state["history"] if "lm_loss" in h]
    assert losses[-1] < 0.75 * losses[0], losses
    assert state["step"] == json.loads(SMOKE.read_text())["train"]["steps"]
    assert model.config.vocab_size == len(tokenizer)
    assert "validation" in state["history"][-1]


def test_training_is_reproducible(tmp_path):
    config = json.loads(SMOKE.read_text())
    config["data"]["worlds"] = 80
    config["train"].update(steps=4, log_every=2, checkpoint_every=4, validation_worlds=8, batch_size=4)
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(config))
    first = load_checkpoint(train(path, tmp_path / "a", log=quiet))[0].state_dict()
    second = load_checkpoint(train(path, tmp_path / "b", log=quiet))[0].state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_encoder_steps_train_only_the_image_encoder_and_its_probes(tmp_path):
    config = json.loads(SMOKE.read_text())
    config["data"]["worlds"] = 80
    config["train"].update(steps=3, encoder_steps=3, log_every=1, checkpoint_every=3, validation_worlds=8, batch_size=4)
    path = tmp_path / "encoder.json"
    path.write_text(json.dumps(config))
    model = load_checkpoint(train(path, tmp_path / "run", log=quiet))[0]
    trained = model.state_dict()
    torch.manual_seed(config["train"]["seed"])  # the initialisation train() started from
    initial = type(model)(model.config).state_dict()
    changed = {k for k in trained if not torch.equal(trained[k], initial[k])}
    assert any(k.startswith("encoder.") for k in changed)
    assert any(k.startswith("probe.shapes") for k in changed)
    assert not any(k.startswith(("decoder.", "fusion.", "probe.mentions")) for k in changed), sorted(changed)


def test_text_heads_warm_up_afresh_after_the_encoder_only_steps():
    config = TrainConfig(encoder_steps=100, warmup_steps=50)
    assert text_head_warmup(config, 99) == 0.0
    assert text_head_warmup(config, 100) == pytest.approx(1 / 50)
    assert text_head_warmup(config, 149) == 1.0 and text_head_warmup(config, 500) == 1.0
    assert text_head_warmup(TrainConfig(encoder_steps=0), 0) == 1.0


def test_learning_rate_warms_up_then_decays_to_the_minimum():
    config = TrainConfig(steps=1000, warmup_steps=100, learning_rate=1e-3, min_learning_rate=1e-5)
    assert learning_rate(config, 0, 0.0) == pytest.approx(1e-5)
    assert learning_rate(config, 99, 0.099) == pytest.approx(1e-3)
    assert learning_rate(config, 550, 0.55) == pytest.approx((1e-3 + 1e-5) / 2)
    assert learning_rate(config, 1000, 1.0) == pytest.approx(1e-5)


def test_time_budget_ends_the_schedule_early():
    config = TrainConfig(steps=1000, time_budget_minutes=10)
    assert schedule_progress(config, 100, 0.0) == pytest.approx(0.1)
    assert schedule_progress(config, 100, 300.0) == pytest.approx(0.5)
    assert schedule_progress(config, 100, 900.0) == 1.0
    assert schedule_progress(TrainConfig(steps=1000), 100, 1e9) == pytest.approx(0.1)


def test_curriculum_caps_scenes_early_only():
    config = TrainConfig(curriculum=[[0.1, 3], [0.2, 6]])
    assert entity_cap(config, 0.05) == 3
    assert entity_cap(config, 0.15) == 6
    assert entity_cap(config, 0.5) is None


def _tiny_config(tmp_path: Path, name: str, **train_values) -> Path:
    config = json.loads(SMOKE.read_text())
    config["data"]["worlds"] = 80
    config["train"].update(steps=2, log_every=1, checkpoint_every=2, validation_worlds=8, batch_size=4, **train_values)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(config))
    return path


def test_a_second_stage_starts_from_the_first_stages_weights(tmp_path):
    first = train(_tiny_config(tmp_path, "first"), tmp_path / "first", log=quiet)
    lines = []
    second = train(_tiny_config(tmp_path, "second", init_checkpoint=str(first), learning_rate=0.0, min_learning_rate=0.0),
                   tmp_path / "second", log=lines.append)
    before, after = load_checkpoint(first)[0].state_dict(), load_checkpoint(second)[0].state_dict()
    # At learning rate 0 the second stage keeps the weights it started from (BatchNorm running
    # statistics still move with the batches it sees).
    assert all(torch.equal(before[k], after[k]) for k in before if "running" not in k and "num_batches" not in k)
    assert any(f"starting from the weights of {first}" in line for line in lines)


def test_a_second_stage_refuses_another_model_config(tmp_path):
    first = train(_tiny_config(tmp_path, "first"), tmp_path / "first", log=quiet)
    config = json.loads(_tiny_config(tmp_path, "wider", init_checkpoint=str(first)).read_text())
    config["model"]["n_embd"] = 32
    path = tmp_path / "wider.json"
    path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="another model config"):
        train(path, tmp_path / "wider", log=quiet)


def test_a_bank_made_before_an_option_existed_is_reused(tmp_path):
    """Banks record their data config; options added since default to what made the old bank."""
    path = _tiny_config(tmp_path, "tiny")
    out = tmp_path / "run"
    first = []
    train(path, out, log=first.append)
    assert any(line.startswith("generate") for line in first)
    bank = WorldBank.load(out / "bank.pt")
    for option in ("hard_negative_rate", "spread_counts"):
        del bank.config[option]
    bank.save(out / "bank.pt")
    lines = []
    train(path, out, log=lines.append)
    assert not any(line.startswith("generate") for line in lines)

    config = json.loads(path.read_text())
    config["data"]["spread_counts"] = True
    path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="another data config"):
        train(path, out, log=quiet)


def test_a_bank_made_by_other_caption_rules_is_refused(tmp_path):
    """The data config cannot tell that a caption rule changed; the bank's rules digest can."""
    path = _tiny_config(tmp_path, "tiny")
    out = tmp_path / "run"
    train(path, out, log=quiet)
    bank = WorldBank.load(out / "bank.pt")
    assert bank.rules == rules_digest()
    bank.rules = "0123456789ab"
    bank.save(out / "bank.pt")
    with pytest.raises(ValueError, match="other scene or caption rules"):
        train(path, out, log=quiet)


def test_every_config_in_the_repository_reads():
    """The default, smoke and experiment configs all name fields that exist."""
    configs = sorted(SMOKE.parent.rglob("*.json"))
    assert len(configs) >= 4
    for path in configs:
        read_config(path)
