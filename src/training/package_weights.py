"""A model back from its package: the PyTorch model whose weights a package's ONNX graphs hold.

A later training stage (a new scorer over the shipped encoder) starts from the package that the
earlier stages produced, as a user's fine-tuning would, so no checkpoint has to be kept beside
it. Export names most initializers after their parameters; the rest it renames:
  - a Linear's weight becomes an anonymous MatMul input, stored transposed; the MatMul node's
    name keeps the scope of the module it was traced in;
  - a convolution followed by BatchNorm is folded into one convolution: the folded weights go to
    the convolution (in graph order), and the BatchNorm becomes the identity.

Used by `relational-stage` and `ablation` (their --package).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import onnx
import torch
from onnx import numpy_helper
from torch import nn

from .model import CaptionFusionModel, ModelConfig

GRAPHS = ("encoder", "decoder", "fusion")
ANONYMOUS = "onnx::"


def model_config(package: Path, vocab_size: int) -> ModelConfig:
    config = json.loads((package / "config.json").read_text())
    encoder, decoder, fusion = config["encoder"], config["decoder"], config["fusion"]
    return ModelConfig(
        vocab_size=vocab_size,
        image_size=encoder["image_size"],
        cnn_channels=tuple(encoder["cnn_channels"]),
        n_embd=encoder["hidden_size"],
        n_head=decoder["n_head"],
        n_encoder_layer=encoder["num_hidden_layers"],
        n_decoder_layer=decoder["n_layer"],
        n_fusion_layer=fusion["num_hidden_layers"],
        n_positions=decoder["n_positions"],
        mlp_ratio=decoder["n_inner"] // decoder["n_embd"],
        fusion=fusion.get("kind", "attention"),  # packages before 1.3.0 name no kind
        slot_reader=fusion.get("slot_reader", "token"),  # 1.3.0 names none: its reader is "token"
    )


def module_path(node_name: str, part: str) -> str:
    """The module of `part` (encoder, decoder, fusion) that a node was traced in, from its scope:
    "/fusion/blocks.0/mlp/fc/MatMul" is in fusion.blocks.0.mlp.fc. A Sequential's child is scoped
    "read/read.0", which is read.0; a module called again gets a suffix ("relation.1_1"); and a
    graph traced from a method of the part, not from its forward, starts below it ("/head/...")."""
    path: list[str] = []
    for scope in node_name.strip("/").split("/")[:-1]:
        scope = re.sub(r"_\d+$", "", scope)
        if path and scope.startswith(path[-1] + "."):
            path.pop()
        path.append(scope)
    return ".".join(path if path[:1] == [part] else [part, *path])


def graph_weights(path: Path, part: str, model: CaptionFusionModel) -> dict[str, torch.Tensor]:
    """The parameters that the graph of one part (encoder, decoder, fusion) holds, under the
    model's names."""
    graph = onnx.load(str(path)).graph
    # The fusion graph is exported through a wrapper that holds the whole model as `model`.
    values = {i.name.removeprefix("model."): torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    for node in graph.node:  # export stores equal initializers once, and names the copies by Identity nodes
        if node.op_type == "Identity" and node.input[0].removeprefix("model.") in values:
            values[node.output[0].removeprefix("model.")] = values[node.input[0].removeprefix("model.")]
    weights = {name: value for name, value in values.items() if not name.startswith(ANONYMOUS)}
    state = model.state_dict()
    for node in graph.node:
        weight = node.input[1] if node.op_type == "MatMul" else ""
        name = module_path(node.name, part) + ".weight"
        if weight.startswith(ANONYMOUS) and name in state:
            weights[name] = values[weight].T.contiguous()

    folded = [name for name, module in model.named_modules() if isinstance(module, nn.Conv2d)]
    convolutions = [node for node in graph.node if node.op_type == "Conv"]
    if part == "encoder":
        if len(convolutions) != len(folded):
            raise ValueError(f"{path.name}: {len(convolutions)} convolutions, the model has {len(folded)}")
        for node, name in zip(convolutions, folded):
            weights[name + ".weight"], weights[name + ".bias"] = values[node.input[1]], values[node.input[2]]
    elsewhere = [name for name in weights if not name.startswith(part + ".")]
    if elsewhere:
        raise ValueError(f"{path.name}: parameters outside the {part}: {elsewhere[:3]}")
    return weights


def identity_batch_norms(model: CaptionFusionModel) -> None:
    """BatchNorm layers whose convolutions hold the folded statistics pass their input through."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
            module.running_mean.zero_()
            module.running_var.fill_(1.0 - module.eps)  # (x - 0) / sqrt(var + eps) = x


def load_package_model(package: Path) -> tuple[CaptionFusionModel, list[str]]:
    """The package's encoder, decoder and fusion scorer as one model (the training-only probe
    keeps its fresh weights), and its vocabulary."""
    vocabulary = (package / "vocab.txt").read_text().splitlines()
    model = CaptionFusionModel(model_config(package, len(vocabulary)))
    manifest = json.loads((package / "caption_service.json").read_text())
    weights: dict[str, torch.Tensor] = {}
    for graph in GRAPHS:
        weights.update(graph_weights(package / manifest["graphs"][graph]["file"], graph, model))
    with torch.no_grad():
        identity_batch_norms(model)
        weights.setdefault("decoder.lm_head.weight", weights["decoder.wte.weight"])  # tied, as in GPT-2
        state = model.state_dict()
        for name, value in weights.items():
            if name not in state or state[name].shape != value.shape:
                raise ValueError(f"the package's {name} {tuple(value.shape)} does not fit the model")
            state[name].copy_(value)
    batch_norms = tuple(n + "." for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d))
    unset = sorted(name for name in state if name not in weights and not name.startswith(("probe.", *batch_norms)))
    if unset:
        raise ValueError(f"the package does not hold {unset[:5]}")
    return model.eval(), vocabulary
