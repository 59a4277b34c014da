"""The q8 variant writer: the rewrite ONNX Runtime's dynamic quantizer makes, and what it leaves alone."""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from training.quantize import quantize_model, quantize_weight


def matmul_model(weight: np.ndarray) -> onnx.ModelProto:
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["h"]),
            helper.make_node("MatMul", ["h", "x_t"], ["y"]),  # activation × activation: not quantized
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4]), helper.make_tensor_value_info("x_t", TensorProto.FLOAT, [3, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5])],
        [numpy_helper.from_array(weight, "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_weight_matmul_becomes_dynamic_int8_and_io_stays_float32():
    weight = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    model, count = quantize_model(matmul_model(weight))
    ops = [n.op_type for n in model.graph.node]
    assert count == 1
    assert ops == ["DynamicQuantizeLinear", "MatMulInteger", "Cast", "Mul", "Mul", "MatMul"]
    initializers = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    assert "w" not in initializers  # the fp32 weight is gone
    assert initializers["w_quantized"].dtype == np.int8
    assert [i.type.tensor_type.elem_type for i in model.graph.input] == [TensorProto.FLOAT, TensorProto.FLOAT]
    assert model.graph.output[0].type.tensor_type.elem_type == TensorProto.FLOAT
    # The int8 weight times its scale is the fp32 weight within half a step.
    scale = float(initializers["w_scale"])
    assert np.abs(initializers["w_quantized"] * scale - weight).max() <= scale / 2 + 1e-7


def test_symmetric_scale_maps_the_largest_weight_to_127():
    values, scale = quantize_weight(np.array([[-2.54, 1.0], [0.0, 0.5]], dtype=np.float32))
    assert scale == np.float32(0.02)
    assert values.tolist() == [[-127, 50], [0, 25]]
