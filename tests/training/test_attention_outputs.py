"""add-attention-outputs: graph surgery that exposes each cross-attention softmax as an output."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import pytest

from training.attention_fixture import export_without_attention_outputs, tiny_model
from training.attention_outputs import add_attention_outputs, cross_attention_softmaxes
from training.export import GRAPH_FILES, export_package, sha256
from training.tokenizer import WordTokenizer
from training.vocab import vocabulary

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """The tiny model exported with the outputs, and exported without them then given them by surgery."""
    tokenizer = WordTokenizer(vocabulary())
    model = tiny_model(tokenizer)
    root = tmp_path_factory.mktemp("attention")
    export_package(model, tokenizer, root / "exported", "exported", "0.1.0")
    export_without_attention_outputs(model, tokenizer, root / "surgery", "surgery")
    before = {role: onnx.load(str(root / "surgery" / GRAPH_FILES[role])) for role in ("cached_decoder", "fusion")}
    add_attention_outputs(root / "surgery", log=lambda _: None)
    return root / "exported", root / "surgery", before


def outputs(package: Path, role: str) -> list[tuple[str, list]]:
    model = onnx.load(str(package / GRAPH_FILES[role]))
    return [(o.name, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]) for o in model.graph.output]


@pytest.mark.parametrize("role", ["cached_decoder", "fusion"])
def test_surgery_gives_the_outputs_the_exporter_writes(packages, role):
    exported, surgery, _ = packages
    assert outputs(surgery, role) == outputs(exported, role)


@pytest.mark.parametrize("role", ["cached_decoder", "fusion"])
def test_surgery_changes_no_node_and_no_weight(packages, role):
    _, surgery, before = packages
    after = onnx.load(str(surgery / GRAPH_FILES[role]))
    old = before[role].graph
    added = [n for n in after.graph.node if n.name.startswith("/explain/")]
    assert [n.op_type for n in added] == ["Identity"] * len(cross_attention_softmaxes(old))
    assert list(after.graph.node)[: len(old.node)] == list(old.node)
    assert list(after.graph.initializer) == list(old.initializer)
    assert list(after.graph.output)[: len(old.output)] == list(old.output)
    softmax_outputs = set(cross_attention_softmaxes(old).values())
    assert {n.input[0] for n in added} == softmax_outputs


def test_surgery_declares_the_outputs_with_current_digests(packages):
    _, surgery, _ = packages
    manifest = json.loads((surgery / "caption_service.json").read_text())
    assert manifest["decoder"]["cross_attentions"] == manifest["fusion"]["cross_attentions"] == "cross_attentions.{i}"
    for graph in manifest["graphs"].values():
        assert graph["sha256"] == sha256(surgery / graph["file"])


def test_surgery_twice_changes_nothing(packages, tmp_path):
    _, surgery, _ = packages
    copy = tmp_path / "again"
    shutil.copytree(surgery, copy)
    add_attention_outputs(copy, log=lambda _: None)
    for path in sorted(p.relative_to(surgery) for p in surgery.rglob("*") if p.is_file()):
        assert (copy / path).read_bytes() == (surgery / path).read_bytes(), path


def test_a_graph_without_cross_attention_is_refused(tmp_path):
    package = tmp_path / "encoder-only"
    (package / "onnx").mkdir(parents=True)
    source = ROOT / "tests/fixtures/attention-tiny"
    shutil.copy(source / "config.json", package)
    manifest = json.loads((source / "caption_service.json").read_text())
    manifest["graphs"] = {"decoder": manifest["graphs"]["encoder"]}
    del manifest["image_cache"], manifest["fusion"]
    manifest["decoder"]["input_ids"] = manifest["decoder"]["encoder_hidden_states"] = "pixel_values"
    (package / "caption_service.json").write_text(json.dumps(manifest))
    shutil.copy(source / GRAPH_FILES["encoder"], package / GRAPH_FILES["encoder"])
    with pytest.raises(ValueError, match="no cross-attention softmax"):
        add_attention_outputs(package, log=lambda _: None)


def test_the_bundled_package_declares_the_outputs_its_graphs_have():
    package = ROOT / "models/shapeworld-fusion"
    manifest = json.loads((package / "caption_service.json").read_text())
    config = json.loads((package / "config.json").read_text())
    # One explanation map per decoder layer; the relational scorer gives one in all.
    layers = {"cached_decoder": config["decoder"]["n_layer"],
              "fusion": 1 if config["fusion"].get("kind") == "relational" else config["fusion"]["num_hidden_layers"]}
    for role in ("cached_decoder", "fusion"):
        names = [name for name, _ in outputs(package, role) if name.startswith("cross_attentions.")]
        assert names == [manifest["decoder" if role != "fusion" else "fusion"]["cross_attentions"].format(i=i) for i in range(layers[role])]
    assert not [name for name, _ in outputs(package, "decoder") if name.startswith("cross_attentions.")]


def test_the_committed_fixtures_are_what_the_generator_writes(packages):
    """tests/fixtures/attention-tiny*: regenerate with `python3 -m training.attention_fixture`."""
    exported, surgery, _ = packages
    for generated, committed in ((exported, "attention-tiny"), (surgery, "attention-tiny-surgery")):
        for role in ("cached_decoder", "fusion"):
            assert sha256(generated / GRAPH_FILES[role]) == sha256(ROOT / "tests/fixtures" / committed / GRAPH_FILES[role]), (committed, role)

