"""The `_quantized` (transformers.js dtype `q8`) variant of a package's graphs, with onnx alone.

  PYTHONPATH=src /usr/bin/python3 -m training.quantize tests/fixtures/vit-gpt2-tiny

Writes `onnx/<name>_quantized.onnx` beside every `onnx/<name>.onnx` (fp32) of the package. The
rewrite is the one ONNX Runtime's dynamic quantizer (`quantize_dynamic`, which Optimum and
transformers.js's conversion script use for their `_quantized` files) applies to a MatMul whose
second input is a 2-D weight initializer:

    A ─ DynamicQuantizeLinear ─> A_q (uint8), A_scale, A_zero_point
    MatMulInteger(A_q, W_q (int8, symmetric per tensor), A_zero_point, 0) ─> int32
    Cast(float) × (A_scale × W_scale) ─> the MatMul's output

so activations are quantized per call and weights once. Graph inputs and outputs keep their float32
element types, as in the published `_quantized` files. Only MatMuls of the top-level graph are
rewritten (the fixtures' graphs keep theirs there); everything else stays float32. Python has no
ONNX Runtime here, so the C# tests check the variant against the fp32 graph.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SUFFIX = "_quantized"


def quantize_weight(weight: np.ndarray) -> tuple[np.ndarray, np.float32]:
    """Symmetric per-tensor int8: W ≈ W_q × scale with W_q in [-127, 127]."""
    largest = float(np.abs(weight).max())
    scale = np.float32(largest / 127.0 if largest > 0 else 1.0)
    return np.clip(np.round(weight / scale), -127, 127).astype(np.int8), scale


def quantize_model(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    """A copy of `model` with its weight MatMuls dynamically quantized; returns it and their count."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    initializers = {i.name: i for i in graph.initializer}
    uses: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1

    nodes: list[onnx.NodeProto] = []
    quantized: dict[str, tuple[str, str, str]] = {}  # weight -> (W_q, W_scale, W_zero_point)
    count = 0
    for node in graph.node:
        weight = initializers.get(node.input[1]) if node.op_type == "MatMul" else None
        if weight is None or weight.data_type != TensorProto.FLOAT or len(weight.dims) != 2:
            nodes.append(node)
            continue
        if weight.name not in quantized:
            values, scale = quantize_weight(numpy_helper.to_array(weight))
            names = (f"{weight.name}_quantized", f"{weight.name}_scale", f"{weight.name}_zero_point")
            graph.initializer.extend(
                [
                    numpy_helper.from_array(values, names[0]),
                    numpy_helper.from_array(np.array(scale, dtype=np.float32), names[1]),
                    numpy_helper.from_array(np.array(0, dtype=np.int8), names[2]),
                ]
            )
            quantized[weight.name] = names
        w_q, w_scale, w_zero = quantized[weight.name]
        a, y = node.input[0], node.output[0]
        p = f"{y}_q8"
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [a], [f"{p}_a", f"{p}_a_scale", f"{p}_a_zero_point"], name=f"{p}_quantize"),
            helper.make_node("MatMulInteger", [f"{p}_a", w_q, f"{p}_a_zero_point", w_zero], [f"{p}_int32"], name=f"{p}_matmul"),
            helper.make_node("Cast", [f"{p}_int32"], [f"{p}_float"], to=TensorProto.FLOAT, name=f"{p}_cast"),
            helper.make_node("Mul", [f"{p}_a_scale", w_scale], [f"{p}_scale"], name=f"{p}_scale_product"),
            helper.make_node("Mul", [f"{p}_float", f"{p}_scale"], [y], name=f"{p}_dequantize"),
        ]
        count += 1

    del graph.node[:]
    graph.node.extend(nodes)
    # fp32 weights that only quantized MatMuls read are dropped: that is the variant's saving.
    still_read = read_names(graph) | {o.name for o in graph.output}
    kept = [i for i in graph.initializer if i.name in still_read or i.name not in quantized]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if not any(o.domain in ("", "ai.onnx") and o.version >= 11 for o in model.opset_import):
        raise ValueError("DynamicQuantizeLinear needs opset 11 or later")
    onnx.checker.check_model(model)
    return model, count


def read_names(graph: onnx.GraphProto) -> set[str]:
    """Every value a node of `graph` or of its subgraphs (If branches) reads."""
    names = set()
    for node in graph.node:
        names.update(node.input)
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                names |= read_names(attribute.g)
    return names


def variant_path(path: Path) -> Path:
    return path.with_name(path.stem + SUFFIX + path.suffix)


def quantize_package(directory: Path) -> dict[str, dict]:
    """Writes the `_quantized` variant of every fp32 graph in `directory/onnx`; returns file → {matmuls, sha256, bytes}."""
    written = {}
    for path in sorted((directory / "onnx").glob("*.onnx")):
        if any(path.stem.endswith(s) for s in ("_quantized", "_fp16", "_int8", "_uint8", "_q4", "_q4f16", "_bnb4", "_q2", "_q2f16", "_q1", "_q1f16")):
            continue
        model, count = quantize_model(onnx.load(str(path)))
        target = variant_path(path)
        onnx.save(model, str(target))
        data = target.read_bytes()
        written[str(target.relative_to(directory))] = {"matmuls": count, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="package directory with onnx/*.onnx")
    args = parser.parse_args()
    for file, facts in quantize_package(args.package).items():
        print(f"wrote {file}: {facts['matmuls']} MatMuls quantized, {facts['bytes']} bytes")


if __name__ == "__main__":
    main()
