"""The fusion scorers other than model.FusionScorer, by ModelConfig.fusion."""
from __future__ import annotations

from torch import nn

from .baseline_fusion import ConcatFusion, LateFusion
from .model import ModelConfig
from .relational_fusion import RelationalFusion

SCORERS = {"relational": RelationalFusion, "concat": ConcatFusion, "late": LateFusion}


def other_fusion(config: ModelConfig) -> nn.Module:
    return SCORERS[config.fusion](config)
