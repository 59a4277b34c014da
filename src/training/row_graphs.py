"""The server's row graphs: tiny ONNX graphs that move decoder rows on the execution provider's device.

With its decoding state on the device (ModelOptions.DecoderState), the server compacts, forks and
grows a batch's KV cache and image inputs without bringing them to the host: it runs these graphs
on the decoder's provider, inputs and outputs bound to device memory. They are written once, with
`python3 -m training row-graphs`, into the engine's source tree, where they are embedded resources;
tests/training/test_row_graphs.py checks that writing them again gives the same bytes.

Every graph takes tensors of any rank with rows first (a KV cache [rows, heads, slots, head size],
encoder states [rows, tokens, hidden], image keys and values [rows, heads, tokens, head size]).
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

# Opset 13 has every operator here with its indices and pads as inputs (not attributes), so one
# graph serves every shape; onnx 1.12 (the training side's) writes IR version 8, which any
# ONNX Runtime since 1.10 reads.
OPSET = 13
INT64_MAX = 2**63 - 1
DIRECTORY = Path(__file__).resolve().parents[1] / "CaptionService.Inference" / "Generation" / "RowGraphs"


def _tensor(name: str, element_type: int, shape: list | None) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, element_type, shape)


def _model(graph: onnx.GraphProto) -> onnx.ModelProto:
    # No onnx.checker: onnx 1.12's insists that graph inputs have a shape, and these take any rank
    # (ONNX Runtime reads an input without one as a tensor of unknown rank). The C# tests run them.
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="training.row_graphs")


def gather_rows() -> onnx.ModelProto:
    """output = data[rows][:, :, start:]: the chosen rows (repeats fork beams), each keeping axis 2 from `start` on.

    A KV cache drops the leading slots that pad every chosen row; start 0 keeps everything, for
    tensors of rank 3 as well as 4.
    """
    nodes = [
        helper.make_node("Gather", ["data", "rows"], ["gathered"], axis=0),
        helper.make_node("Constant", [], ["ends"], value=helper.make_tensor("ends", TensorProto.INT64, [1], [INT64_MAX])),
        helper.make_node("Constant", [], ["axes"], value=helper.make_tensor("axes", TensorProto.INT64, [1], [2])),
        helper.make_node("Slice", ["gathered", "start", "ends", "axes"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "gather_rows",
        [_tensor("data", TensorProto.FLOAT, None), _tensor("rows", TensorProto.INT64, ["rows"]), _tensor("start", TensorProto.INT64, [1])],
        [_tensor("output", TensorProto.FLOAT, None)],
    )
    return _model(graph)


def pad_rows() -> onnx.ModelProto:
    """output = data with zeros appended as `pads` says (ONNX Pad's [begins..., ends...]): rows that join a KV cache."""
    graph = helper.make_graph(
        [helper.make_node("Pad", ["data", "pads"], ["output"], mode="constant")],
        "pad_rows",
        [_tensor("data", TensorProto.FLOAT, None), _tensor("pads", TensorProto.INT64, ["pads"])],
        [_tensor("output", TensorProto.FLOAT, None)],
    )
    return _model(graph)


def concat_rows() -> onnx.ModelProto:
    """output = rows of `data`, then those of `rows`: the image inputs of rows that join."""
    graph = helper.make_graph(
        [helper.make_node("Concat", ["data", "rows"], ["output"], axis=0)],
        "concat_rows",
        [_tensor("data", TensorProto.FLOAT, None), _tensor("rows", TensorProto.FLOAT, None)],
        [_tensor("output", TensorProto.FLOAT, None)],
    )
    return _model(graph)


GRAPHS = {"gather_rows": gather_rows, "pad_rows": pad_rows, "concat_rows": concat_rows}


def write(directory: Path = DIRECTORY) -> list[Path]:
    """Writes every row graph as `<name>.onnx` into `directory`; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in GRAPHS.items():
        path = directory / f"{name}.onnx"
        path.write_bytes(build().SerializeToString())
        paths.append(path)
    return paths
