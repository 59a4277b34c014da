"""Random-weight CLIP packages in the exact layout of Xenova/clip-vit-base-patch32.

  PYTHONPATH=src /usr/bin/python3 -m training synth --preset clip-b32 --out .cache/synth/clip-b32 [--seed 0]
  PYTHONPATH=src /usr/bin/python3 -m training.clip_synth    # rewrites the committed tests/fixtures/clip-tiny

Only the weights are synthetic (seeded). config.json (the preset's sizes written in; unchanged for
clip-b32), preprocessor_config.json, tokenizer.json, tokenizer_config.json and
special_tokens_map.json are the published files in tests/data/hf-reference/clip-vit-base-patch32/,
so the tokenizer is CLIP's real BPE (49,408 tokens). The graphs are the transformers.js layout:

  onnx/model.onnx         input_ids, attention_mask [text_batch_size, sequence_length] int64,
                          pixel_values [image_batch_size, 3, H, W] float32
                          -> logits_per_image [image_batch_size, text_batch_size],
                             logits_per_text [text_batch_size, image_batch_size],
                             text_embeds, image_embeds (unit length)
                          (transformers.js's zero-shot-image-classification runs this one)
  onnx/text_model.onnx    input_ids, attention_mask -> text_embeds (projected, not normalised), last_hidden_state
  onnx/vision_model.onnx  pixel_values -> image_embeds (projected, not normalised), last_hidden_state

clip-b32 also writes vocab.json and merges.txt, as the published export has them. The clip-tiny
fixture leaves them out (tokenizer.json holds the same vocabulary and merges) to stay small: its
text width is 8, since the 49,408-row token embedding is stored in two graphs.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import torch
from torch import nn

from .clip import Clip, ClipConfig
from .hf_files import write_json
from .onnx_graphs import _export
from .parity import TOLERANCE, TensorFiles

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = ROOT / "tests" / "data" / "hf-reference" / "clip-vit-base-patch32"
COPIED_FILES = ("preprocessor_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
TOKENIZER_FILES = ("vocab.json", "merges.txt")
PRESETS = {
    "clip-b32": ClipConfig(),
    # Text width 8 keeps the two copies of the 49,408 x D token embedding at 1.6 MB each. The logit
    # scale stays HF's initial exp(2.6592) = 14.3: the softmaxed scores stay spread, so parity means something.
    "clip-tiny": ClipConfig(
        text_width=8, text_heads=2, text_layers=2, text_mlp=16,
        vision_width=32, vision_heads=2, vision_layers=2, vision_mlp=64,
        projection_dim=16,
    ),
}
GRAPH_FILES = {"model": "onnx/model.onnx", "text_model": "onnx/text_model.onnx", "vision_model": "onnx/vision_model.onnx"}
FIXTURE_DIR = ROOT / "tests" / "fixtures" / "clip-tiny"
PARITY_DIR = ROOT / "tests" / "fixtures" / "parity" / "clip-tiny"
START, END = 49406, 49407  # <|startoftext|>, <|endoftext|> (also the padding token)
TEXT, IMAGE, SEQ = "text_batch_size", "image_batch_size", "sequence_length"


def read_reference(name: str) -> dict:
    return json.loads((REFERENCE_DIR / name).read_text(encoding="utf-8"))


def model_config_json(c: ClipConfig) -> dict:
    """The reference config.json with the preset's sizes written in (unchanged for clip-b32)."""
    result = copy.deepcopy(read_reference("config.json"))
    result.update(projection_dim=c.projection_dim, logit_scale_init_value=c.logit_scale)
    result["text_config"].update(
        hidden_size=c.text_width, num_attention_heads=c.text_heads, num_hidden_layers=c.text_layers,
        intermediate_size=c.text_mlp, projection_dim=c.projection_dim, vocab_size=c.vocab_size,
        max_position_embeddings=c.max_positions, layer_norm_eps=c.eps,
    )
    result["vision_config"].update(
        hidden_size=c.vision_width, num_attention_heads=c.vision_heads, num_hidden_layers=c.vision_layers,
        intermediate_size=c.vision_mlp, projection_dim=c.projection_dim, image_size=c.image_size,
        patch_size=c.patch_size, layer_norm_eps=c.eps,
    )
    return result


class CombinedGraph(nn.Module):
    """model.onnx: the input order transformers.js's CLIPModel feeds by name."""

    def __init__(self, model: Clip):
        super().__init__()
        self.model = model

    def forward(self, input_ids, pixel_values, attention_mask):
        return self.model(input_ids, pixel_values, attention_mask)


class TextGraph(nn.Module):
    def __init__(self, model: Clip):
        super().__init__()
        self.text = model.text_model

    def forward(self, input_ids, attention_mask):
        return self.text(input_ids, attention_mask)


class VisionGraph(nn.Module):
    def __init__(self, model: Clip):
        super().__init__()
        self.vision = model.vision_model

    def forward(self, pixel_values):
        return self.vision(pixel_values)


def example_inputs(c: ClipConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Tracing inputs: 3 texts of 5 tokens (one padded), 2 images, so both batch sizes stay symbolic."""
    input_ids = torch.tensor([[START, 320, 1929, 4558, END], [START, 320, END, END, END], [START, 1237, 269, 518, END]])
    attention_mask = (torch.arange(5)[None, :] <= (input_ids == END).int().argmax(-1, keepdim=True)).long()
    return input_ids, attention_mask, torch.zeros(2, 3, c.image_size, c.image_size)


def export_graphs(model: Clip, directory: Path) -> None:
    c = model.config
    input_ids, attention_mask, pixel_values = example_inputs(c)
    text_axes = {"input_ids": {0: TEXT, 1: SEQ}, "attention_mask": {0: TEXT, 1: SEQ}}
    _export(
        CombinedGraph(model), (input_ids, pixel_values, attention_mask), directory / GRAPH_FILES["model"],
        ["input_ids", "pixel_values", "attention_mask"],
        ["logits_per_image", "logits_per_text", "text_embeds", "image_embeds"],
        {**text_axes, "pixel_values": {0: IMAGE}, "logits_per_image": {0: IMAGE, 1: TEXT},
         "logits_per_text": {0: TEXT, 1: IMAGE}, "text_embeds": {0: TEXT}, "image_embeds": {0: IMAGE}},
        static_output_dims={"text_embeds": {1: c.projection_dim}, "image_embeds": {1: c.projection_dim}},
    )
    _export(
        TextGraph(model), (input_ids, attention_mask), directory / GRAPH_FILES["text_model"],
        ["input_ids", "attention_mask"], ["text_embeds", "last_hidden_state"],
        {**text_axes, "text_embeds": {0: TEXT}, "last_hidden_state": {0: TEXT, 1: SEQ}},
        static_output_dims={"text_embeds": {1: c.projection_dim}, "last_hidden_state": {2: c.text_width}},
    )
    _export(
        VisionGraph(model), (pixel_values,), directory / GRAPH_FILES["vision_model"],
        ["pixel_values"], ["image_embeds", "last_hidden_state"],
        {"pixel_values": {0: IMAGE}, "image_embeds": {0: IMAGE}, "last_hidden_state": {0: IMAGE}},
        static_output_dims={"image_embeds": {1: c.projection_dim}, "last_hidden_state": {1: c.image_tokens, 2: c.vision_width}},
    )


def model_card(name: str, seed: int, c: ClipConfig, parameters: int, command: str | None) -> str:
    return (
        f"# {name} (synthetic)\n\n"
        f"Random weights (seed {seed}) in the layout of Xenova/clip-vit-base-patch32: {parameters:,} parameters, "
        f"text {c.text_layers} layers at width {c.text_width}, vision {c.vision_layers} layers at width {c.vision_width} "
        f"({c.image_size}² pixels, {c.patch_size}² patches), projection {c.projection_dim}, logit scale exp({c.logit_scale}). "
        "Its scores are meaningless; it exists to test and measure the server's CLIP scoring. The JSON configs "
        "and the tokenizer are the published CLIP files (MIT).\n\n"
        + (f"Made with `{command}`.\n" if command else "")
    )


def prepare_directory(directory: Path) -> None:
    """Replaces an earlier CLIP package; refuses to delete any other non-empty directory."""
    if directory.exists() and any(directory.iterdir()):
        config = directory / "config.json"
        if not config.is_file() or json.loads(config.read_text(encoding="utf-8")).get("model_type") != "clip":
            raise ValueError(f"{directory} is not empty and holds no CLIP package; refusing to replace it")
        shutil.rmtree(directory)
    (directory / "onnx").mkdir(parents=True)


def build(preset: str, seed: int) -> Clip:
    torch.manual_seed(seed)
    return Clip(PRESETS[preset]).eval()


def synthesize(preset: str, directory: Path, seed: int = 0, command: str | None = None, tokenizer_files: bool = True) -> dict:
    """Writes the package into `directory`; returns {"graphs": {role: {"file", "sha256"}}}."""
    from .export import sha256

    model = build(preset, seed)
    prepare_directory(directory)
    export_graphs(model, directory)
    config = model_config_json(model.config)
    if config == read_reference("config.json"):
        shutil.copyfile(REFERENCE_DIR / "config.json", directory / "config.json")
    else:
        write_json(directory / "config.json", config)
    for name in COPIED_FILES + (TOKENIZER_FILES if tokenizer_files else ()):
        shutil.copyfile(REFERENCE_DIR / name, directory / name)
    (directory / "MODEL_CARD.md").write_text(model_card(preset, seed, model.config, model.num_parameters(), command), encoding="utf-8")
    return {"graphs": {role: {"file": file, "sha256": sha256(directory / file)} for role, file in GRAPH_FILES.items()}}


# The parity fixture: PyTorch's outputs for each graph, replayed through ONNX Runtime by the C# tests.
PARITY_IDS = (  # arbitrary ids, right-padded with <|endoftext|>; the tokenizer has its own cases
    [START, 320, 1746, 3179, 533, 518, 3941, 539, 320, 1901, 2538, 269, END],
    [START, 997, 533, 320, 10305, 269, END, END, END, END, END, END, END],
    [START, 48000, 12, 49405, END, END, END, END, END, END, END, END, END],
)


def parity_images(c: ClipConfig) -> torch.Tensor:
    """Two seeded pixel tensors (I, 3, H, W), already normalised: the graphs' contract, not preprocessing."""
    generator = torch.Generator().manual_seed(7)
    return torch.randn(2, 3, c.image_size, c.image_size, generator=generator)


def write_parity(model: Clip, directory: Path) -> dict:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    files = TensorFiles(directory)
    input_ids = torch.tensor(PARITY_IDS)
    attention_mask = (torch.arange(input_ids.size(1))[None, :] <= (input_ids == END).int().argmax(-1, keepdim=True)).long()
    pixels = parity_images(model.config)
    with torch.no_grad():
        per_image, per_text, text_embeds, image_embeds = model(input_ids, pixels, attention_mask)
        text_raw, text_hidden = model.text_model(input_ids, attention_mask)
        image_raw, image_hidden = model.vision_model(pixels)
    text_in = {"input_ids": input_ids, "attention_mask": attention_mask}
    cases = [
        {"name": "model", "graph": "model", "inputs": files.named("in", {**text_in, "pixel_values": pixels}),
         "outputs": files.named("model", {"logits_per_image": per_image, "logits_per_text": per_text,
                                          "text_embeds": text_embeds, "image_embeds": image_embeds})},
        {"name": "text_model", "graph": "text_model", "inputs": files.named("in", text_in),
         "outputs": files.named("text_model", {"text_embeds": text_raw, "last_hidden_state": text_hidden})},
        {"name": "vision_model", "graph": "vision_model", "inputs": files.named("in", {"pixel_values": pixels}),
         "outputs": files.named("vision_model", {"image_embeds": image_raw, "last_hidden_state": image_hidden})},
    ]
    fixture = {"package": "clip-tiny", "tolerance": TOLERANCE, "logit_scale": float(model.logit_scale.exp()), "cases": cases}
    (directory / "cases.json").write_text(json.dumps(fixture, indent=1) + "\n", encoding="utf-8")
    return fixture


# What transformers.js's zero-shot-image-classification and tokenizer are run on (tests/peer/clip-reference.mjs):
# ShapeWorld scenes upscaled by PIL to the model's 224 x 224, so that neither engine resizes them.
ZERO_SHOT_IMAGES = ("existential-full/world-0.png", "relational-spatial/world-0.png", "quantification-count/world-3.png")
ZERO_SHOT_LABELS = ("a red square", "a blue circle", "two green triangles", "There is a YELLOW cross.", "nothing at all")
TOKENIZER_TEXTS = (
    "a red square is to the left of a blue circle .",
    "There is a YELLOW cross!",
    "It's 3 o'clock, isn't it?? (yes)",
    "naïve café – Straße, ÉCOLE",
    "日本語のテキスト and 中文",
    "emoji 🙂👍🏽 #tag @user",
    "  multiple   spaces\tand\nnewlines  ",
    "don't we'll they're I'm you've he'd",
    "numbers 12345 and 3.14159",
)


def write_zero_shot_cases(c: ClipConfig, directory: Path) -> None:
    from PIL import Image

    from .export import DEFAULT_DATA

    files = []
    for i, source in enumerate(ZERO_SHOT_IMAGES):
        with Image.open(DEFAULT_DATA / source) as image:
            image.convert("RGB").resize((c.image_size, c.image_size), resample=Image.BICUBIC).save(directory / f"image-{i}.png")
        files.append(f"image-{i}.png")
    cases = {"images": files, "sources": list(ZERO_SHOT_IMAGES), "labels": list(ZERO_SHOT_LABELS), "tokenizer_texts": list(TOKENIZER_TEXTS)}
    write_json(directory / "zero_shot_cases.json", cases)


def write_fixture(package_dir: Path = FIXTURE_DIR, parity_dir: Path = PARITY_DIR) -> None:
    command = "PYTHONPATH=src /usr/bin/python3 -m training.clip_synth"
    synthesize("clip-tiny", package_dir, seed=0, command=command, tokenizer_files=False)
    model = build("clip-tiny", 0)
    write_parity(model, parity_dir)
    write_zero_shot_cases(model.config, parity_dir)


if __name__ == "__main__":
    torch.set_num_threads(2)
    write_fixture()
    size = sum(f.stat().st_size for f in FIXTURE_DIR.rglob("*") if f.is_file())
    print(f"wrote {FIXTURE_DIR} ({size / 1e6:.1f} MB) and {PARITY_DIR}")
