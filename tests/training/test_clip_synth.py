"""`synth --preset clip-*`: CLIP packages in the Xenova/clip-vit-base-patch32 layout, and the committed clip-tiny fixture."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from training.clip import Clip
from training.clip_synth import FIXTURE_DIR, GRAPH_FILES, PARITY_DIR, PRESETS, REFERENCE_DIR, build, model_config_json, write_fixture


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("clip")
    write_fixture(root / "clip-tiny", root / "parity")
    return root / "clip-tiny", root / "parity"


def interface(path: Path) -> tuple[dict, dict]:
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]  # noqa: E731
    return {i.name: dims(i) for i in model.graph.input}, {o.name: dims(o) for o in model.graph.output}


def test_b32_preset_has_the_published_config_and_size():
    assert model_config_json(PRESETS["clip-b32"]) == json.loads((REFERENCE_DIR / "config.json").read_text(encoding="utf-8"))
    assert Clip(PRESETS["clip-b32"]).num_parameters() == 151_277_313  # openai/clip-vit-base-patch32


def test_committed_fixture_is_what_the_command_writes(regenerated):
    package, parity = regenerated
    for path in sorted(p for p in FIXTURE_DIR.rglob("*") if p.is_file() and p.suffix != ".onnx"):
        assert path.read_bytes() == (package / path.relative_to(FIXTURE_DIR)).read_bytes(), path.name
    for file in GRAPH_FILES.values():
        committed, fresh = onnx.load(str(FIXTURE_DIR / file)), onnx.load(str(package / file))
        assert interface(FIXTURE_DIR / file) == interface(package / file)
        weights = {t.name: numpy_helper.to_array(t) for t in fresh.graph.initializer}
        for tensor in committed.graph.initializer:
            np.testing.assert_array_equal(numpy_helper.to_array(tensor), weights[tensor.name], err_msg=f"{file} {tensor.name}")
    for path in sorted(p for p in PARITY_DIR.iterdir() if p.suffix in (".bin", ".json") and p.name != "transformersjs.json"):
        if path.suffix == ".bin" and not path.name.startswith("in."):
            # PyTorch's outputs: another CPU's vector kernels may round the last bit otherwise (a
            # machine with AVX-512 wrote 21 of model.image_embeds' 32 floats 1 ulp apart).
            fresh, committed = (np.fromfile(p, dtype=np.float32) for p in (parity / path.name, path))
            np.testing.assert_allclose(fresh, committed, rtol=1e-5, atol=1e-6, err_msg=path.name)
        else:
            assert (parity / path.name).read_bytes() == path.read_bytes(), path.name


def test_graphs_have_the_transformers_js_interface():
    inputs, outputs = interface(FIXTURE_DIR / GRAPH_FILES["model"])
    text = ["text_batch_size", "sequence_length"]
    assert inputs == {"input_ids": text, "pixel_values": ["image_batch_size", 3, 224, 224], "attention_mask": text}
    assert outputs == {
        "logits_per_image": ["image_batch_size", "text_batch_size"],
        "logits_per_text": ["text_batch_size", "image_batch_size"],
        "text_embeds": ["text_batch_size", 16],
        "image_embeds": ["image_batch_size", 16],
    }
    assert interface(FIXTURE_DIR / GRAPH_FILES["text_model"])[1] == {"text_embeds": ["text_batch_size", 16], "last_hidden_state": [*text, 8]}
    assert interface(FIXTURE_DIR / GRAPH_FILES["vision_model"])[1] == {"image_embeds": ["image_batch_size", 16], "last_hidden_state": ["image_batch_size", 50, 32]}


def read(directory: Path, entry: dict) -> np.ndarray:
    return np.fromfile(directory / entry["file"], dtype={"float32": "<f4", "int64": "<i8"}[entry["dtype"]]).reshape(entry["shape"])


def test_pytorch_reproduces_the_parity_outputs():
    model, fixture = build("clip-tiny", 0), json.loads((PARITY_DIR / "cases.json").read_text())
    case = next(c for c in fixture["cases"] if c["graph"] == "model")
    inputs = {name: torch.from_numpy(read(PARITY_DIR, entry)) for name, entry in case["inputs"].items()}
    with torch.no_grad():
        per_image, per_text, text_embeds, image_embeds = model(**inputs)
    for name, value in zip(("logits_per_image", "logits_per_text", "text_embeds", "image_embeds"), (per_image, per_text, text_embeds, image_embeds)):
        np.testing.assert_allclose(value.numpy(), read(PARITY_DIR, case["outputs"][name]), atol=1e-5, err_msg=name)
    # logits are scale x cosine: the split towers' embeddings, normalised, give the same logits.
    cosine = (text_embeds @ image_embeds.t()).t()
    np.testing.assert_allclose(per_image.numpy(), (fixture["logit_scale"] * cosine).numpy(), atol=1e-4)


def test_padding_after_the_end_token_changes_nothing():
    model = build("clip-tiny", 0)
    short = torch.tensor([[49406, 320, 736, 49407]])
    padded = torch.tensor([[49406, 320, 736, 49407, 49407, 49407]])
    with torch.no_grad():
        a, _ = model.text_model(short, torch.ones_like(short))
        b, _ = model.text_model(padded, torch.tensor([[1, 1, 1, 1, 0, 0]]))
    torch.testing.assert_close(a, b)


def test_a_directory_that_is_not_a_clip_package_is_not_replaced(tmp_path):
    from training.clip_synth import synthesize

    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ValueError, match="refusing"):
        synthesize("clip-tiny", tmp_path)
    assert (tmp_path / "notes.txt").is_file()
