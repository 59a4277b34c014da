"""Two tiny packages whose explanation outputs must agree, for the server's parity tests.

  PYTHONPATH=src /usr/bin/python3 -m training.attention_fixture

`tests/fixtures/attention-tiny` is exported with the outputs (`export_package`);
`tests/fixtures/attention-tiny-surgery` is the same model exported without them and then given them
by `add-attention-outputs` (graph surgery), as the bundled package was. Both get the same parity
cases (`tests/fixtures/parity/<name>/`): PyTorch's cross-attention weights for decoder steps, a
decoder prompt and the fusion graph. Python has no ONNX Runtime here, so the C# parity tests
(OrtParityTests) check that ONNX Runtime reproduces them from either package: exporter and surgery
then agree with each other and with the model. Random weights: the numbers, not the model, matter.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .attention_outputs import MANIFEST, add_attention_outputs
from .export import GRAPH_FILES, export_package, export_parity, sha256
from .model import CaptionFusionModel, ModelConfig
from .onnx_graphs import export_cached_image_decoder, export_fusion
from .tokenizer import WordTokenizer
from .vocab import vocabulary

FIXTURES = Path("tests/fixtures")
EXPORTED, SURGERY = "attention-tiny", "attention-tiny-surgery"
STATUS = "Random weights: a test fixture, not a model."
TINY = dict(cnn_channels=(8, 16), n_embd=32, n_head=2, n_encoder_layer=1, n_decoder_layer=2, n_fusion_layer=2, where_evidence=True)


def tiny_model(tokenizer: WordTokenizer) -> CaptionFusionModel:
    torch.manual_seed(14)
    return CaptionFusionModel(ModelConfig(vocab_size=len(tokenizer), **TINY)).eval()


def export_without_attention_outputs(model: CaptionFusionModel, tokenizer: WordTokenizer, directory: Path, name: str) -> None:
    """A package as exporters before the explanation outputs wrote it."""
    export_package(model, tokenizer, directory, name, "0.1.0", status=STATUS)
    image_tokens = model.config.grid_size**2
    export_cached_image_decoder(model.decoder, image_tokens, directory / GRAPH_FILES["cached_decoder"], cross_attentions=False)
    export_fusion(model, image_tokens, directory / GRAPH_FILES["fusion"], cross_attentions=False)
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    for block in ("decoder", "fusion"):
        del manifest[block]["cross_attentions"]
    for role in ("cached_decoder", "fusion"):
        manifest["graphs"][role]["sha256"] = sha256(directory / GRAPH_FILES[role])
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    tokenizer = WordTokenizer(vocabulary())
    model = tiny_model(tokenizer)
    export_package(model, tokenizer, FIXTURES / EXPORTED, EXPORTED, "0.1.0", status=STATUS)
    export_without_attention_outputs(model, tokenizer, FIXTURES / SURGERY, SURGERY)
    add_attention_outputs(FIXTURES / SURGERY)
    for name in (EXPORTED, SURGERY):
        export_parity(model, tokenizer, name, FIXTURES / "parity" / name)
        print(f"wrote {FIXTURES / name} and {FIXTURES / 'parity' / name}")


if __name__ == "__main__":
    main()
