"""Adds the explanation outputs to a package whose graphs were exported without them.

  PYTHONPATH=src /usr/bin/python3 -m training add-attention-outputs models/shapeworld-fusion

The outputs are the ones `export_package` writes for new packages (`cross_attentions.{i}`, each
layer's cross-attention weights over the image tokens, (B, h, T, N)), added by graph surgery: the
softmax each cross-attention layer already computes becomes a graph output as well, through an
Identity node. No weight, node or input changes, so every existing output stays bit for bit what
it was, and a runtime that does not ask for the new outputs runs the same graph (ONNX Runtime
computes the softmax anyway, because the layer reads the image through it).

Why surgery: the bundled package's training checkpoint is not kept, only its ONNX files, and the
exporter's graphs name each layer's softmax `.../blocks.{i}/cross_attn/Softmax`, which is what is
looked for here.

Graphs changed: the caption decoder the server decodes with (`cached_decoder` when the package has
one, else `decoder`) and `fusion`. The Hugging Face merged decoder that other runtimes read is left
alone when the server does not decode with it. The manifest then declares the outputs
(`decoder.cross_attentions`, `fusion.cross_attentions`) and gets the new sha256s.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import onnx
from onnx import TensorProto, helper

from .export import sha256
from .onnx_graphs import CROSS_ATTENTIONS

MANIFEST = "caption_service.json"
CROSS_ATTENTION_SOFTMAX = re.compile(r"blocks\.(\d+)/cross_attn/Softmax$")


def cross_attention_softmaxes(graph: onnx.GraphProto) -> dict[int, str]:
    """Layer index -> the tensor name of that layer's cross-attention softmax output."""
    found: dict[int, str] = {}
    for node in graph.node:
        match = CROSS_ATTENTION_SOFTMAX.search(node.name)
        if node.op_type == "Softmax" and match:
            layer = int(match.group(1))
            if layer in found:
                raise ValueError(f"two cross-attention softmaxes for layer {layer}: {found[layer]}, {node.output[0]}")
            found[layer] = node.output[0]
    if sorted(found) != list(range(len(found))):
        raise ValueError(f"cross-attention layers {sorted(found)} are not 0..{len(found) - 1}")
    return found


def _symbolic(value_info: onnx.ValueInfoProto, axis: int, fallback: str) -> str:
    dim = value_info.type.tensor_type.shape.dim[axis]
    return dim.dim_param or fallback


def expose_cross_attentions(model: onnx.ModelProto, n_head: int, query_input: str, image_input: str, image_axis: int) -> int:
    """Adds `cross_attentions.{i}` outputs to `model` in place; returns how many were added (0 when
    the graph has them already). `query_input` names the input whose axis 1 is the text length,
    `image_input` the input whose axis `image_axis` is the number of image tokens (for the shapes
    declared on the outputs)."""
    graph = model.graph
    existing = {output.name for output in graph.output}
    softmaxes = cross_attention_softmaxes(graph)
    if not softmaxes:
        raise ValueError("no cross-attention softmax (a node named '.../blocks.{i}/cross_attn/Softmax') in the graph")
    inputs = {value.name: value for value in graph.input}
    batch = _symbolic(inputs[query_input], 0, "batch_size")
    queries = _symbolic(inputs[query_input], 1, "sequence_length")
    keys = _symbolic(inputs[image_input], image_axis, "encoder_sequence_length")
    added = 0
    for layer, tensor in sorted(softmaxes.items()):
        name = CROSS_ATTENTIONS.format(i=layer)
        if name in existing:
            continue
        graph.node.append(helper.make_node("Identity", [tensor], [name], name=f"/explain/cross_attentions.{layer}/Identity"))
        graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch, n_head, queries, keys]))
        added += 1
    if added:
        onnx.checker.check_model(model, full_check=True)
    return added


def add_attention_outputs(package: Path, log=print) -> dict:
    """Adds the outputs to the package's caption decoder and fusion graph and declares them in its
    manifest (with the new sha256s). Running it again changes nothing. Returns the manifest."""
    manifest_path = package / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    config = json.loads((package / "config.json").read_text(encoding="utf-8"))
    n_head = int(config["decoder"]["n_head"])
    graphs = manifest["graphs"]
    decoder_role = "cached_decoder" if "cached_decoder" in graphs else "decoder"
    if decoder_role == "cached_decoder":
        image_input, image_axis = manifest["image_cache"]["key"].format(i=0), 2  # (B, h, N, d)
    else:
        image_input, image_axis = manifest["decoder"]["encoder_hidden_states"], 1  # (B, N, D)
    targets = [(decoder_role, "decoder", manifest["decoder"]["input_ids"], image_input, image_axis)]
    if "fusion" in graphs:
        targets.append(("fusion", "fusion", manifest["fusion"]["input_ids"], manifest["fusion"]["encoder_hidden_states"], 1))
    for role, block, query_input, image, axis in targets:
        path = package / graphs[role]["file"]
        model = onnx.load(str(path))
        added = expose_cross_attentions(model, n_head, query_input, image, axis)
        if added:
            onnx.save(model, str(path))
        graphs[role]["sha256"] = sha256(path)
        manifest[block]["cross_attentions"] = CROSS_ATTENTIONS
        log(f"{graphs[role]['file']}: {added} cross-attention outputs added" if added else f"{graphs[role]['file']}: has them already")
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
