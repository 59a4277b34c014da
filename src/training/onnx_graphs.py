"""The three ONNX graphs of a package, with the input and output names of models/README.md.

Each graph is a thin wrapper that flattens the model's Python structures (lists of cache pairs)
into the named tensors ONNX needs. Opset 17 is the newest torch 1.13 can write.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import torch
from torch import nn

from .model import CaptionDecoder, CaptionFusionModel, ImageEncoder

OPSET = 17
BATCH = "batch_size"
ENCODER_LENGTH = "encoder_sequence_length"
DECODER_LENGTH = "decoder_sequence_length"
PAST_LENGTH = "past_sequence_length"
PRESENT_LENGTH = "past_sequence_length + decoder_sequence_length"


def past_names(n_layer: int) -> list[str]:
    return [f"past_key_values.{i}.{kind}" for i in range(n_layer) for kind in ("key", "value")]


def present_names(n_layer: int) -> list[str]:
    return [f"present.{i}.{kind}" for i in range(n_layer) for kind in ("key", "value")]


def image_cache_names(n_layer: int) -> list[str]:
    return [f"image_key_values.{i}.{kind}" for i in range(n_layer) for kind in ("key", "value")]


CROSS_ATTENTIONS = "cross_attentions.{i}"


def cross_attention_names(n_layer: int) -> list[str]:
    """The optional outputs that explain a caption or a score: each layer's cross-attention weights
    over the image tokens, (B, h, T, N), the softmax the layer reads the image with."""
    return [CROSS_ATTENTIONS.format(i=i) for i in range(n_layer)]


class EncoderGraph(nn.Module):
    def __init__(self, encoder: ImageEncoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, pixel_values):
        return self.encoder(pixel_values)  # (B, N, D)


def flat_layers(pairs) -> list[torch.Tensor]:
    """[(key, value)] per layer -> key 0, value 0, key 1, ...: the order of the graphs' per-layer tensors."""
    return [tensor for pair in pairs for tensor in pair]


class DecoderGraph(nn.Module):
    """One merged decoder for every step: a past of length 0 is the first step."""

    def __init__(self, decoder: CaptionDecoder):
        super().__init__()
        self.decoder = decoder
        self.n_layer = len(decoder.blocks)

    def forward(self, input_ids, encoder_hidden_states, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(self.n_layer)]
        logits, presents = self.decoder(input_ids, encoder_hidden_states, past)  # (B, T, V), [(B, h, S, d)] * 2L
        return (logits, *flat_layers(presents))


class CacheBranchDecoderGraph(DecoderGraph):
    """Optimum's merged-decoder interface: `use_cache_branch` (bool [1]) false means "first step",
    and then the past inputs are ignored whatever their length."""

    def forward(self, input_ids, encoder_hidden_states, *past_and_flag):
        *past_flat, use_cache_branch = past_and_flag
        kept = [p.size(2) * use_cache_branch.to(torch.int64)[0] for p in past_flat]  # P or 0 per tensor
        past_flat = [p.index_select(2, torch.arange(0, k, device=p.device)) for p, k in zip(past_flat, kept)]
        return super().forward(input_ids, encoder_hidden_states, *past_flat)


class ImageCacheGraph(nn.Module):
    """The service's first caption graph: every decoder layer's cross-attention keys and values of
    the image tokens, computed once per image instead of at every step."""

    def __init__(self, decoder: CaptionDecoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, encoder_hidden_states):
        return tuple(flat_layers(self.decoder.image_keys_values(encoder_hidden_states)))


class CachedImageDecoderGraph(nn.Module):
    """The service's decoder: the merged decoder's step with the image cache in place of the
    encoder states (the Hugging Face layout has no input for it, so the package keeps both).
    `cross_attentions`: also output each layer's cross-attention weights (`cross_attention_names`)."""

    def __init__(self, decoder: CaptionDecoder, cross_attentions: bool = False):
        super().__init__()
        self.decoder = decoder
        self.n_layer = len(decoder.blocks)
        self.cross_attentions = cross_attentions

    def forward(self, input_ids, *past_and_image_cache):
        return self.step(input_ids, past_and_image_cache)

    def step(self, input_ids, past_and_image_cache, attention_mask=None, position_ids=None):
        pairs = [(past_and_image_cache[2 * i], past_and_image_cache[2 * i + 1]) for i in range(2 * self.n_layer)]
        past, image_keys_values = pairs[: self.n_layer], pairs[self.n_layer :]
        rows = dict(image_keys_values=image_keys_values, attention_mask=attention_mask, position_ids=position_ids)
        if not self.cross_attentions:
            # Not every decoder takes output_cross_attentions (synth's GPT-2 does not).
            logits, presents = self.decoder(input_ids, None, past, **rows)  # (B, T, V), [(B, h, S, d)] * 2L
            return (logits, *flat_layers(presents))
        logits, presents, weights = self.decoder(input_ids, None, past, output_cross_attentions=True, **rows)  # ..., [(B, h, T, N)] * L
        return (logits, *flat_layers(presents), *weights)


class RowPositionDecoderGraph(CachedImageDecoderGraph):
    """The cached decoder with `attention_mask` (B, P + T) and `position_ids` (B, T) inputs (the
    names Optimum gives them), so that the server can run rows at different positions in one batch:
    a request joins a running batch at its first token, its cache left-padded and masked."""

    def forward(self, input_ids, attention_mask, position_ids, *past_and_image_cache):
        return self.step(input_ids, past_and_image_cache, attention_mask, position_ids)


class FusionGraph(nn.Module):
    """The matching score; `cross_attentions`: also each layer's cross-attention weights (B, h, T, N)."""

    def __init__(self, model: CaptionFusionModel, cross_attentions: bool = False):
        super().__init__()
        self.model = model
        self.cross_attentions = cross_attentions

    def forward(self, input_ids, attention_mask, encoder_hidden_states):
        if not self.cross_attentions:
            return self.model.match(input_ids, attention_mask, encoder_hidden_states)  # (B,)
        logits, _, weights = self.model.fusion.scores_states_and_attentions(input_ids, attention_mask, encoder_hidden_states)
        return (logits, *weights)  # (B,), [(B, h, T, N)] * L


def _export(
    graph: nn.Module,
    args: tuple,
    path: Path,
    inputs: list[str],
    outputs: list[str],
    axes: dict,
    static_output_dims: dict[str, dict[int, int]] | None = None,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    modes = [m.training for m in graph.modules()]
    graph.eval()
    with torch.no_grad():
        torch.onnx.export(
            graph,
            args,
            str(path),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
        )
    # torch.onnx.export restores the training flags it found; put every module back as it was.
    for module, training in zip(graph.modules(), modes):
        module.train(training)
    model = onnx.load(str(path))
    # The exporter sometimes leaves a fixed width symbolic; consumers read widths from metadata.
    for output in model.graph.output:
        for axis, value in (static_output_dims or {}).get(output.name, {}).items():
            output.type.tensor_type.shape.dim[axis].dim_value = value
    onnx.save(model, str(path))
    onnx.checker.check_model(model, full_check=True)


def export_encoder(encoder: ImageEncoder, image_size: int, path: Path, static_length: bool = False) -> None:
    """`static_length`: the number of image tokens is written into the output shape (a ViT's 197)
    rather than left symbolic."""
    pixel_values = torch.zeros(2, 3, image_size, image_size)
    _, length, width = encoder.position.shape
    _export(
        EncoderGraph(encoder),
        (pixel_values,),
        path,
        ["pixel_values"],
        ["last_hidden_state"],
        {"pixel_values": {0: BATCH}, "last_hidden_state": {0: BATCH} if static_length else {0: BATCH, 1: ENCODER_LENGTH}},
        static_output_dims={"last_hidden_state": {1: length, 2: width} if static_length else {2: width}},
    )


def decoder_example(decoder: CaptionDecoder, image_tokens: int, past_length: int = 3):
    """Tracing inputs; a non-zero past length so that the traced graph keeps the length symbolic."""
    first = decoder.blocks[0].self_attn
    n_head, width = first.n_head, decoder.wte.embedding_dim
    input_ids = torch.zeros(2, 2, dtype=torch.long)
    encoder_hidden_states = torch.zeros(2, image_tokens, width)
    past = [torch.zeros(2, n_head, past_length, width // n_head) for _ in range(2 * len(decoder.blocks))]
    return input_ids, encoder_hidden_states, past


def export_decoder(decoder: CaptionDecoder, image_tokens: int, path: Path, use_cache_branch: bool = False) -> None:
    n_layer = len(decoder.blocks)
    input_ids, encoder_hidden_states, past = decoder_example(decoder, image_tokens)
    inputs = ["input_ids", "encoder_hidden_states", *past_names(n_layer)]
    args: tuple = (input_ids, encoder_hidden_states, *past)
    graph: nn.Module = DecoderGraph(decoder)
    if use_cache_branch:
        inputs.append("use_cache_branch")
        args = (*args, torch.ones(1, dtype=torch.bool))
        graph = CacheBranchDecoderGraph(decoder)
    outputs = ["logits", *present_names(n_layer)]
    axes = {
        "input_ids": {0: BATCH, 1: DECODER_LENGTH},
        "encoder_hidden_states": {0: BATCH, 1: ENCODER_LENGTH},
        "logits": {0: BATCH, 1: DECODER_LENGTH},
        **{name: {0: BATCH, 2: PAST_LENGTH} for name in past_names(n_layer)},
        **{name: {0: BATCH, 2: PRESENT_LENGTH} for name in present_names(n_layer)},
    }
    _export(graph, args, path, inputs, outputs, axes)


def export_image_cache(decoder: CaptionDecoder, image_tokens: int, path: Path) -> None:
    n_layer = len(decoder.blocks)
    _, encoder_hidden_states, past = decoder_example(decoder, image_tokens)
    _, n_head, _, head_size = past[0].shape
    names = image_cache_names(n_layer)
    _export(
        ImageCacheGraph(decoder),
        (encoder_hidden_states,),
        path,
        ["encoder_hidden_states"],
        names,
        {"encoder_hidden_states": {0: BATCH, 1: ENCODER_LENGTH}, **{name: {0: BATCH, 2: ENCODER_LENGTH} for name in names}},
        static_output_dims={name: {1: n_head, 3: head_size} for name in names},
    )


def export_cached_image_decoder(
    decoder: CaptionDecoder, image_tokens: int, path: Path, row_positions: bool = False, cross_attentions: bool = False
) -> None:
    """`row_positions`: with `attention_mask` and `position_ids` inputs (RowPositionDecoderGraph).
    `cross_attentions`: with the optional `cross_attentions.{i}` outputs (B, h, T, N) that explain a caption."""
    n_layer = len(decoder.blocks)
    input_ids, encoder_hidden_states, past = decoder_example(decoder, image_tokens)
    image_cache = flat_layers(decoder.image_keys_values(encoder_hidden_states))
    graph: nn.Module = CachedImageDecoderGraph(decoder, cross_attentions)
    inputs, args = ["input_ids"], [input_ids]
    if row_positions:
        graph = RowPositionDecoderGraph(decoder, cross_attentions)
        batch, length = input_ids.shape
        attention_mask = torch.ones(batch, past[0].size(2) + length, dtype=torch.long)
        position_ids = torch.arange(past[0].size(2), past[0].size(2) + length).repeat(batch, 1)
        inputs, args = [*inputs, "attention_mask", "position_ids"], [*args, attention_mask, position_ids]
    axes = {
        "input_ids": {0: BATCH, 1: DECODER_LENGTH},
        "attention_mask": {0: BATCH, 1: PRESENT_LENGTH},
        "position_ids": {0: BATCH, 1: DECODER_LENGTH},
        "logits": {0: BATCH, 1: DECODER_LENGTH},
        **{name: {0: BATCH, 2: PAST_LENGTH} for name in past_names(n_layer)},
        **{name: {0: BATCH, 2: ENCODER_LENGTH} for name in image_cache_names(n_layer)},
        **{name: {0: BATCH, 2: PRESENT_LENGTH} for name in present_names(n_layer)},
    }
    if not row_positions:
        del axes["attention_mask"], axes["position_ids"]
    attention_outputs = cross_attention_names(n_layer) if cross_attentions else []
    axes.update({name: {0: BATCH, 2: DECODER_LENGTH, 3: ENCODER_LENGTH} for name in attention_outputs})
    _export(
        graph,
        (*args, *past, *image_cache),
        path,
        [*inputs, *past_names(n_layer), *image_cache_names(n_layer)],
        ["logits", *present_names(n_layer), *attention_outputs],
        axes,
        static_output_dims={name: {1: past[0].size(1)} for name in attention_outputs},
    )


def export_fusion(model: CaptionFusionModel, image_tokens: int, path: Path, cross_attentions: bool = False) -> None:
    """`cross_attentions`: with the optional `cross_attentions.{i}` outputs (B, h, T, N) that explain a score."""
    width = model.config.n_embd
    input_ids = torch.zeros(2, 4, dtype=torch.long)
    attention_mask = torch.ones(2, 4, dtype=torch.long)
    encoder_hidden_states = torch.zeros(2, image_tokens, width)
    attention_outputs = cross_attention_names(model.fusion.explanation_layers) if cross_attentions else []
    _export(
        FusionGraph(model, cross_attentions),
        (input_ids, attention_mask, encoder_hidden_states),
        path,
        ["input_ids", "attention_mask", "encoder_hidden_states"],
        ["logits", *attention_outputs],
        {
            "input_ids": {0: BATCH, 1: "sequence_length"},
            "attention_mask": {0: BATCH, 1: "sequence_length"},
            "encoder_hidden_states": {0: BATCH, 1: ENCODER_LENGTH},
            "logits": {0: BATCH},
            **{name: {0: BATCH, 2: "sequence_length", 3: ENCODER_LENGTH} for name in attention_outputs},
        },
        static_output_dims={name: {1: model.fusion.explanation_heads} for name in attention_outputs},
    )
