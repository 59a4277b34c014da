"""The row graphs embedded in the engine are exactly what `python3 -m training row-graphs` writes."""
from __future__ import annotations

import onnx

from training.row_graphs import DIRECTORY, GRAPHS, OPSET, write


def test_committed_row_graphs_are_what_the_generator_writes(tmp_path):
    for path in write(tmp_path):
        committed = DIRECTORY / path.name
        assert committed.read_bytes() == path.read_bytes(), f"{committed} drifted: run `python3 -m training row-graphs`"


def test_the_generator_writes_every_row_graph_the_engine_embeds():
    assert sorted(p.stem for p in DIRECTORY.glob("*.onnx")) == sorted(GRAPHS)


def test_row_graphs_stay_within_the_training_sides_opset():
    for build in GRAPHS.values():
        model = build()
        assert [o.version for o in model.opset_import] == [OPSET]
        assert OPSET <= 17
