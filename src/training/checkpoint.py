"""Checkpoints: everything needed to rebuild the model without the training code's defaults."""

from __future__ import annotations

from pathlib import Path

import torch

from .model import CaptionFusionModel, ModelConfig
from .tokenizer import WordTokenizer


def save_checkpoint(path: Path, model: CaptionFusionModel, vocabulary: list[str], **extra) -> None:
    """Writes atomically (temporary file, then rename), so a reader never sees half a checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "model": model.state_dict(),
        "model_config": model.config.to_dict(),
        "vocabulary": list(vocabulary),
        **extra,
    }
    temporary = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, temporary)
    temporary.replace(path)


def load_checkpoint(path: Path) -> tuple[CaptionFusionModel, WordTokenizer, dict]:
    state = torch.load(path, map_location="cpu")
    model = CaptionFusionModel(ModelConfig.from_dict(state["model_config"]))
    model.load_state_dict(state["model"])
    model.eval()
    return model, WordTokenizer(state["vocabulary"]), state
