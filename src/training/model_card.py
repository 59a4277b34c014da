"""MODEL_CARD.md for an exported package: what the model is, how it was trained, how well it does."""

from __future__ import annotations

import json

from .model import ModelConfig
from .report import markdown_table, targets_table


def _training_section(training: dict | None) -> str:
    if training is None:
        return (
            "**This package is untrained** (random weights). It exists so that the server and its tests "
            "can be developed against the real file layout; its captions and scores are meaningless.\n"
        )
    if "stages" in training:  # a later stage (relational_stage.py) lists the ones before it
        return "\n".join(f"Stage {i}: {stage['title']}.\n\n" + "\n".join(stage["lines"]) + "\n"
                         for i, stage in enumerate(training["stages"], 1))
    lines = [
        f"- Trained on {training['samples']:,} generated scenes ({training['steps']:,} steps of batch "
        f"{training['batch_size']}) in {training['wall_minutes']:.0f} minutes on {training['device']}, seed {training['seed']}.",
        f"- Training config: `{training['config_path']}`; world bank of {training['bank_worlds']:,} worlds, "
        "each with its canonical caption and true/false matching statements from the project's own generator "
        "(never the published ShapeWorld example worlds)"
        + (f", made by the scene and caption rules with digest `{training['bank_rules']}` (`data.rules_digest`)."
           if training.get("bank_rules") else "."),
        f"- Final losses: caption LM {training['final_lm_loss']:.3f}, matching BCE {training['final_match_loss']:.3f}.",
        f"- Command: `{training['command']}`",
    ]
    return "\n".join(lines) + "\n"


# Until the signals are measured against the server: how to measure them.
_UNMEASURED_TRUST = """An export has no scene statistics (they belong to the encoder's weights), so the server answers
no `imageDistance` and never warns `out-of-distribution` until they are calibrated; then measure
every signal against the server (README, "Model packages"):

```sh
PYTHONPATH=src /usr/bin/python3 -m training scenes --count 2000 --out .cache/calibration-scenes
dotnet run --project src/CaptionService.Api -c Release -- calibrate-scenes PACKAGE .cache/calibration-scenes
PYTHONPATH=src /usr/bin/python3 -m training trust --server http://localhost:8080 --out runs/trust.json
```

The package has the explanation outputs (`explain=true`: each caption word's cross-attention map,
each score's evidence map; `cross_attentions.{i}` in `caption_service.json`). They show where the
model looked, not whether it is right. A caption word's map is the mean over every head of every
layer until `decoder.cross_attention_heads` names the heads that point best: choose them with the
pointing game on generated scenes (it rewrites `caption_service.json`), then measure how often a
word's map points at the object it names on the development scenes:

```sh
PYTHONPATH=src /usr/bin/python3 -m training explanation-heads PACKAGE --out runs/explanation-heads.json
PYTHONPATH=src /usr/bin/python3 -m training pointing --server http://localhost:8080 --out runs/pointing.json
```
"""


def _fusion_description(config: ModelConfig) -> str:
    """The card's bullet on onnx/fusion_model.onnx, for the scorer the package has."""
    if config.fusion == "relational":
        return (
            "- `onnx/fusion_model.onnx`: the relational matching scorer. A slot reader marks, per image token,\n"
            "  whether an object's centre lies under it, with the object's colour, shape, exact centre, area\n"
            "  and shade; the 15 likeliest tokens become object slots (TopK). A 2-layer text transformer reads\n"
            "  `[CLS] statement [SEP]` into two clauses (a connective has two) of five roles (subject, object,\n"
            "  relation, selection direction, amount); per clause each slot's fit to the subject and the object,\n"
            "  each pair's relation, and soft logic over them (existence, counts, ratios, the selected object)\n"
            "  give features, from which an MLP gives one logit; `sigmoid(logit)` is the probability that the\n"
            "  statement is true. Its explanation output maps each word, through the roles that read it, to the\n"
            "  cells of the objects that fit those roles."
        )
    if config.fusion in ("concat", "late"):
        combined = "concatenated, then an MLP" if config.fusion == "concat" else "met in a scaled dot product"
        return (
            f"- `onnx/fusion_model.onnx`: a baseline matching scorer: the image tokens pooled (mean and maximum)\n"
            f"  and an LSTM's state at `[SEP]`, {combined}; it has no explanation outputs."
        )
    where_evidence = ", and where it looked: the attention-weighted token position" if config.where_evidence else ""
    return (
        f"- `onnx/fusion_model.onnx`: the matching scorer, {config.n_fusion_layer} layers of bidirectional\n"
        "  self-attention over `[CLS] statement [SEP]` and cross-attention to the image tokens, which also\n"
        "  passes on its evidence (per head, the best token's score and a soft count of matching\n"
        f"  tokens{where_evidence});\n"
        "  the `[CLS]` state gives one logit, and `sigmoid(logit)` is the probability that the statement\n"
        "  is true."
    )


def _evaluation_section(evaluation: dict | None) -> str:
    if evaluation is None:
        return "Not evaluated.\n"
    return (
        "Measured on the development half of the published ShapeWorld agreement sets (worlds 0-49 of "
        "each of the 17 sets, 5 statements per world). Agreement: the fusion score ≥ 0.5 means "
        "\"true\". Caption truth rate: the greedy caption of each image, judged true or false against "
        "the world model by the project's truth function (captions in forms it cannot judge are left out).\n\n"
        f"{markdown_table(evaluation)}\n\n"
        f"Targets:\n\n{targets_table(evaluation)}\n\n"
        f"Reproduce: `{evaluation['command']}`\n"
    )


def model_card(
    name: str,
    version: str,
    config: ModelConfig,
    num_parameters: int,
    vocab_size: int,
    training: dict | None,
    evaluation: dict | None,
    status: str | None = None,
    trust: str | None = None,
) -> str:
    status_section = f"## Status\n\n{status.strip()}\n\n" if status else ""
    trust_section = trust.strip() + "\n" if trust else _UNMEASURED_TRUST
    return f"""# {name} {version}

Image captioning and image-text matching for ShapeWorld-style scenes: coloured shapes (square,
rectangle, triangle, pentagon, cross, circle, semicircle, ellipse in red, green, blue, yellow,
magenta, cyan, gray) on a black 100x100 background, described in ShapeWorld's English.

{status_section}## Model

{num_parameters:,} parameters, fp32, ONNX graphs (opset 17):

- `onnx/encoder_model.onnx`: a CNN with {len(config.cnn_channels) + 1} stride-2 stages (BatchNorm,
  ReLU, CoordConv coordinate channels, a dilated last convolution) turns the image into a
  {config.grid_size}x{config.grid_size} grid of {config.n_embd}-wide tokens with learned 2-D
  positions, followed by {config.n_encoder_layer} self-attention block(s) over the grid.
- `onnx/decoder_model_merged.onnx`: a GPT-2-style decoder, {config.n_decoder_layer} layers,
  {config.n_head} heads, causal self-attention with a KV cache and cross-attention to the image
  tokens in every layer. One graph serves every step; a past of length 0 is the first step.
{_fusion_description(config)}
- `onnx/decoder_image_cache.onnx` and `onnx/decoder_with_image_cache.onnx`: the same decoder split
  for the server, which computes each layer's cross-attention keys and values of the image tokens
  once per image and then runs the steps on them (transformers.js uses the merged decoder).

Word-level WordPiece vocabulary of {vocab_size} tokens (every caption word is one token).
Captions start from `[CLS]` and end at `[SEP]`.

```json
{json.dumps(config.to_dict(), indent=2)}
```

## Training

{_training_section(training)}
## Evaluation

{_evaluation_section(evaluation)}
## Trust signals

{trust_section}
## Limitations

- It knows ShapeWorld scenes only: synthetic flat shapes on black. On photographs or any other
  images its captions and scores are meaningless.
- Its language is ShapeWorld's: the words in `vocab.txt`. A statement with other words gets
  `[UNK]` tokens and an unreliable score.
- Statement forms it was not trained on (for example logical connectives, ratios or selections
  when the generator does not produce them) are scored, but with lower accuracy; see the table.
- Images are expected at {config.image_size}x{config.image_size}; other sizes are resized
  bilinearly, which blurs small shapes.
"""
