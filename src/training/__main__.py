"""Command line of the training side, run from the repository root:

  PYTHONPATH=src /usr/bin/python3 -m training generate --out runs/default/bank.pt
  PYTHONPATH=src /usr/bin/python3 -m training train --config src/training/configs/default.json --out runs/default
  PYTHONPATH=src /usr/bin/python3 -m training evaluate --checkpoint runs/default/checkpoint.pt --out runs/default/evaluation.json
  PYTHONPATH=src /usr/bin/python3 -m training export --checkpoint runs/default/checkpoint.pt
      --evaluation runs/default/evaluation.json --out models/shapeworld-fusion
      --parity tests/fixtures/parity/shapeworld-fusion    (one command)
  PYTHONPATH=src /usr/bin/python3 -m training synth --preset vit-gpt2-base --out .cache/synth/vit-gpt2-base
  PYTHONPATH=src /usr/bin/python3 -m training scenes --count 2000 --out .cache/calibration-scenes
  PYTHONPATH=src /usr/bin/python3 -m training row-graphs
  PYTHONPATH=src /usr/bin/python3 -m training trust --server http://localhost:8080 --out runs/trust.json
  PYTHONPATH=src /usr/bin/python3 -m training synth --preset clip-b32 --out .cache/synth/clip-b32
  PYTHONPATH=src /usr/bin/python3 -m training relational-oracle --out runs/relational-oracle.json
  PYTHONPATH=src /usr/bin/python3 -m training relational-stage --package models/shapeworld-fusion
      --config src/training/configs/relational.json --out runs/relational
  PYTHONPATH=src /usr/bin/python3 -m training decoder-stage --package models/shapeworld-fusion
      --config src/training/configs/experiments/decoder-clearest.json --out runs/decoder-clearest
  PYTHONPATH=src /usr/bin/python3 -m training caption-errors --package models/shapeworld-fusion --out runs/caption-errors.json
  PYTHONPATH=src /usr/bin/python3 -m training reader-diagnostics --checkpoint runs/relational/checkpoint.pt
  PYTHONPATH=src /usr/bin/python3 -m training ablation --package models/shapeworld-fusion
      --config src/training/configs/relational.json --steps 2000 --out runs/ablation.json
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import torch

from .model import FUSION_KINDS

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "default.json"


def command_line() -> str:
    """This invocation as run from the repository root (recorded in checkpoints and model cards)."""
    return "PYTHONPATH=src " + shlex.join(["/usr/bin/python3", "-m", "training", *sys.argv[1:]])


def generate(args) -> None:
    from .data import generate_bank
    from .train import read_config

    _, data_config, _ = read_config(args.config)
    if args.worlds is not None:
        data_config.worlds = args.worlds
    generate_bank(data_config).save(args.out)
    print(f"wrote {args.out}")


def train(args) -> None:
    from .train import train as run

    run(args.config, args.out, bank_path=args.bank, resume=args.resume, command=command_line(), device=args.device)


def evaluate(args) -> None:
    from .calibrate import data_dir
    from .evaluate import evaluate_checkpoint

    evaluate_checkpoint(args.checkpoint, args.data or data_dir(), args.out, command=command_line(), limit=args.limit)


def export(args) -> None:
    from .checkpoint import load_checkpoint
    from .export import export_package, export_parity, read_json, write_greedy_captions
    from .model import CaptionFusionModel
    from .tokenizer import WordTokenizer
    from .train import read_config
    from .vocab import vocabulary

    if args.checkpoint is not None:
        model, tokenizer, state = load_checkpoint(args.checkpoint)
        training = state.get("training")
    else:
        # An untrained package: the real layout with random weights, for developing the server.
        model_config, _, train_config = read_config(args.config)
        tokenizer = WordTokenizer(vocabulary())
        model_config.vocab_size = len(tokenizer)
        torch.manual_seed(train_config.seed)
        model = CaptionFusionModel(model_config).eval()
        training = None
    evaluation = read_json(args.evaluation)
    status = args.status.read_text(encoding="utf-8") if args.status else None
    trust = args.trust.read_text(encoding="utf-8") if args.trust else None
    manifest = export_package(model, tokenizer, args.out, args.name, args.version, training, evaluation, status, trust)
    print(f"wrote {args.out}: " + ", ".join(f"{role} {graph['sha256'][:12]}" for role, graph in manifest["graphs"].items()))
    if args.parity is not None:
        export_parity(model, tokenizer, args.name, args.parity)
        if evaluation is not None:
            count = write_greedy_captions(evaluation, args.parity)
            print(f"wrote {count} greedy captions for the transformers.js check")
        print(f"wrote {args.parity}")


def synth(args) -> None:
    import time

    started = time.perf_counter()
    if args.preset.startswith("clip-"):
        from . import clip_synth

        manifest = clip_synth.synthesize(args.preset, args.out, args.seed, command_line())
    else:
        from .synth import synthesize

        manifest = synthesize(args.preset, args.out, args.seed, args.image_cache, command_line())
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    graphs = ", ".join(f"{role} {graph['sha256'][:12]}" for role, graph in manifest["graphs"].items())
    print(f"wrote {args.out} ({size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s: {graphs}")


def row_graphs(args) -> None:
    from . import row_graphs as graphs

    for path in graphs.write(args.out or graphs.DIRECTORY):
        print(f"wrote {path}")


def scenes(args) -> None:
    from .trust import calibration_scenes

    calibration_scenes(args.count, args.seed, args.out)
    print(f"wrote {args.count} scenes to {args.out}")


def trust(args) -> None:
    from .calibrate import data_dir
    from .trust import measure

    measure(args.server.rstrip("/"), args.data or data_dir(), args.out, args.beams, args.per_kind, args.seed)


def add_attention_outputs(args) -> None:
    from .attention_outputs import add_attention_outputs as add

    add(args.package)


def pointing(args) -> None:
    from .calibrate import data_dir
    from .pointing import measure

    if args.generated:
        import tempfile

        from .pointing import generated_scenes

        with tempfile.TemporaryDirectory(prefix="pointing-") as work:
            generated_scenes(args.generated, args.seed, Path(work))
            measure(args.server.rstrip("/"), Path(work), args.out)
    else:
        measure(args.server.rstrip("/"), args.data or data_dir(), args.out)


def explanation_heads(args) -> None:
    from .explanation_heads import select_heads

    select_heads(args.package, args.out, args.count, args.seed, tuple(shlex.split(args.server_command)))


def relational_oracle(args) -> None:
    from .calibrate import data_dir
    from .relational_oracle import run

    run(args.data or data_dir(), args.out, args.steps, args.worlds, args.batch, args.auxiliary_weight)


def relational_stage(args) -> None:
    from .relational_stage import StageConfig, run

    run(args.package, StageConfig.read(args.config), args.out, args.config, command_line(), device=args.device)


def decoder_stage(args) -> None:
    from .decoder_stage import DecoderStageConfig, run

    run(args.package, DecoderStageConfig.read(args.config), args.out, args.config, command_line(), device=args.device)


def caption_errors(args) -> None:
    from .caption_errors import run
    from .checkpoint import load_checkpoint
    from .package_weights import load_package_model
    from .tokenizer import WordTokenizer

    if args.checkpoint is not None:
        model, tokenizer, _ = load_checkpoint(args.checkpoint)
    else:
        model, vocabulary = load_package_model(args.package)
        tokenizer = WordTokenizer(vocabulary)
    run(model, tokenizer, args.scenes, args.seed, args.out)


def reader_diagnostics(args) -> None:
    from .checkpoint import load_checkpoint
    from .package_weights import load_package_model
    from .reader_diagnostics import run, trained_reader

    if args.checkpoint is not None:
        model = load_checkpoint(args.checkpoint)[0]
    elif args.train_reader is not None:
        model = trained_reader(args.package, args.train_reader, args.worlds, args.reader_steps)
    else:
        model = load_package_model(args.package)[0]
    run(model, args.scenes, args.out)


def ablation(args) -> None:
    from .ablation import KINDS, run
    from .calibrate import data_dir
    from .relational_stage import StageConfig

    config = StageConfig.read(args.config)
    if args.steps is not None:
        config.steps = args.steps
    run(args.package, config, args.data or data_dir(), args.out, command_line(), tuple(args.kinds or KINDS))


def add_device_argument(command: argparse.ArgumentParser) -> None:
    """--device for the commands that train: the long stages can run on a GPU."""
    command.add_argument("--device", default="cpu", help="torch device: cpu (default) or cuda")


def add_stage_arguments(command: argparse.ArgumentParser, package_help: str, config_type: str) -> None:
    """The arguments of a stage that trains part of a finished package."""
    command.add_argument("--package", type=Path, required=True, help=f"{package_help}, e.g. models/shapeworld-fusion")
    command.add_argument("--config", type=Path, required=True, help=f"a JSON file with a \"stage\" object ({config_type})")
    command.add_argument("--out", type=Path, required=True, help="directory for checkpoint.pt")
    add_device_argument(command)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python3 -m training", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("generate", help="generate and save a world bank")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    p.add_argument("--out", type=Path, required=True, help="bank file, e.g. runs/default/bank.pt")
    p.add_argument("--worlds", type=int, help="override the config's number of worlds")
    p.set_defaults(run=generate)

    p = commands.add_parser("train", help="train (generating the bank first when it is missing)")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    p.add_argument("--out", type=Path, required=True, help="run directory: bank.pt, checkpoint.pt")
    p.add_argument("--bank", type=Path, help="a bank made by `generate` (default: OUT/bank.pt)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    add_device_argument(p)
    p.set_defaults(run=train)

    p = commands.add_parser("evaluate", help="agreement and caption quality on the ShapeWorld development sets")
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--data", type=Path, help="the ShapeWorld sets (default: $SHAPEWORLD_DATA, else the repository's tests/data/shapeworld)")
    p.add_argument("--out", type=Path, required=True, help="results JSON; a Markdown table is written beside it")
    p.add_argument("--limit", type=int, help="worlds per set (default: all)")
    p.set_defaults(run=evaluate)

    p = commands.add_parser("export", help="write a model package (and optionally its parity fixture)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", type=Path)
    source.add_argument("--untrained", action="store_true", help="random weights built from --config")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    p.add_argument("--out", type=Path, required=True, help="package directory, e.g. models/shapeworld-fusion")
    p.add_argument("--name", default="shapeworld-fusion")
    p.add_argument("--version", default="1.0.0")
    p.add_argument("--evaluation", type=Path, help="results JSON of `evaluate`, for the model card")
    p.add_argument("--parity", type=Path, help="parity fixture directory, e.g. tests/fixtures/parity/shapeworld-fusion")
    p.add_argument("--status", type=Path, help="Markdown for the model card's Status section (where the model stands against its targets)")
    p.add_argument("--trust", type=Path, help="Markdown for the model card's Trust signals section, as measured against the server (`trust`, `pointing`); default: how to measure them")
    p.set_defaults(run=export)

    p = commands.add_parser("synth", help="a random-weight package in the exact shapes of a real model (vit-gpt2, CLIP)")
    p.add_argument("--preset", required=True, choices=["vit-gpt2-base", "vit-gpt2-mini", "clip-b32", "clip-tiny"])
    p.add_argument("--out", type=Path, required=True, help="package directory, e.g. .cache/synth/vit-gpt2-base (never committed)")
    p.add_argument("--seed", type=int, default=0, help="weight seed: the same seed writes the same graphs")
    p.add_argument("--image-cache", action="store_true", help="add the server's image-cache graph pair (models/README.md; vit-gpt2 presets only)")
    p.set_defaults(run=synth)

    p = commands.add_parser("row-graphs", help="write the server's row graphs (decoder rows moved on the device) into its source tree")
    p.add_argument("--out", type=Path, default=None, help="directory (default: src/CaptionService.Inference/Generation/RowGraphs)")
    p.set_defaults(run=row_graphs)

    p = commands.add_parser("scenes", help="render training-like scenes for the server's calibrate-scenes command")
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--seed", type=int, default=14, help="scene seed (the default bank uses 1234)")
    p.add_argument("--out", type=Path, required=True, help="directory for the PNGs, e.g. .cache/calibration-scenes")
    p.set_defaults(run=scenes)

    p = commands.add_parser("trust", help="caption truth with and without verify=true, and the OOD signal's ROC AUC, from a running server")
    p.add_argument("--server", required=True, help="base URL of a running server, e.g. http://localhost:8080")
    p.add_argument("--data", type=Path, help="the ShapeWorld sets (default: $SHAPEWORLD_DATA, else tests/data/shapeworld)")
    p.add_argument("--out", type=Path, required=True, help="results JSON, every image included")
    p.add_argument("--beams", type=int, default=4, help="beams of the verified captions")
    p.add_argument("--per-kind", type=int, default=50, help="generated non-scene images of each kind")
    p.add_argument("--seed", type=int, default=14, help="seed of the non-scene images")
    p.set_defaults(run=trust)

    p = commands.add_parser("add-attention-outputs", help="expose each cross-attention softmax of an exported package as an output (graph surgery, no weight change)")
    p.add_argument("package", type=Path, help="package directory, e.g. models/shapeworld-fusion (rewritten in place)")
    p.set_defaults(run=add_attention_outputs)

    p = commands.add_parser("pointing", help="the pointing game of a running server's caption explanations on the ShapeWorld development sets")
    p.add_argument("--server", required=True, help="base URL of a running server, e.g. http://localhost:8080")
    p.add_argument("--data", type=Path, help="the ShapeWorld sets (default: $SHAPEWORLD_DATA, else tests/data/shapeworld)")
    p.add_argument("--generated", type=int, default=0, help="play on this many scenes from the project's generator instead (as explanation-heads does)")
    p.add_argument("--seed", type=int, default=1414, help="seed of the generated scenes")
    p.add_argument("--out", type=Path, required=True, help="results JSON, every word included")
    p.set_defaults(run=pointing)

    p = commands.add_parser("explanation-heads", help="choose the decoder heads of caption explanations by the pointing game on generated scenes, into the manifest")
    p.add_argument("package", type=Path, help="package directory, e.g. models/shapeworld-fusion (its caption_service.json is rewritten)")
    p.add_argument("--out", type=Path, required=True, help="results JSON: every head's hit rates and the greedy steps")
    p.add_argument("--count", type=int, default=600, help="generated scenes")
    p.add_argument("--seed", type=int, default=1414, help="scene seed (not the bank's 1234 nor the calibration scenes' 14)")
    p.add_argument("--server-command", default="dotnet src/CaptionService.Api/bin/Release/net10.0/CaptionService.Api.dll",
                   help="how to start the server (built in Release); it is started once per head")
    p.set_defaults(run=explanation_heads)

    p = commands.add_parser("relational-oracle", help="the relational head on perfect objects (world models), measured on the ShapeWorld development sets")
    p.add_argument("--data", type=Path, help="the ShapeWorld sets (default: $SHAPEWORLD_DATA, else tests/data/shapeworld)")
    p.add_argument("--out", type=Path, required=True, help="results JSON")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--worlds", type=int, default=10000, help="generated training worlds (8 statements each)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--auxiliary-weight", type=float, default=1.0, help="weight of the role targets' loss; 0 trains on the labels alone")
    p.set_defaults(run=relational_oracle)

    p = commands.add_parser("relational-stage", help="train a relational scorer over a package's frozen image encoder (then evaluate and export its checkpoint)")
    add_stage_arguments(p, "the package whose encoder and decoder are kept", "relational_stage.StageConfig")
    p.set_defaults(run=relational_stage)

    p = commands.add_parser("decoder-stage", help="train a package's caption decoder further, over its frozen image encoder or with it (then evaluate and export its checkpoint)")
    add_stage_arguments(p, "the package whose scorer is kept (and encoder, unless the config's train_encoder)", "decoder_stage.DecoderStageConfig")
    p.set_defaults(run=decoder_stage)

    p = commands.add_parser("caption-errors", help="how often greedy captions are false on generated scenes, and of which kind")
    p.add_argument("--package", type=Path, default=Path("models/shapeworld-fusion"), help="the package whose decoder is measured")
    p.add_argument("--checkpoint", type=Path, help="measure this checkpoint's decoder instead")
    p.add_argument("--scenes", type=int, default=1000, help="generated scenes of 1 to 15 objects")
    p.add_argument("--seed", type=int, default=777, help="scene seed (apart from the bank's 1234 and the decoder stage's 9100)")
    p.add_argument("--out", type=Path, help="results JSON")
    p.set_defaults(run=caption_errors)

    p = commands.add_parser("reader-diagnostics", help="how well a relational scorer's slot reader finds one slot per object, on generated scenes")
    p.add_argument("--package", type=Path, default=Path("models/shapeworld-fusion"), help="the package whose scorer is measured (or whose encoder a new reader trains over)")
    p.add_argument("--checkpoint", type=Path, help="measure this checkpoint's scorer instead")
    p.add_argument("--train-reader", type=Path, metavar="CONFIG", help="train a new reader alone with this stage config (its slot_reader) and measure it")
    p.add_argument("--worlds", type=int, default=4000, help="generated scenes that --train-reader trains on")
    p.add_argument("--reader-steps", type=int, default=1500, help="steps of --train-reader")
    p.add_argument("--scenes", type=int, default=400, help="generated scenes measured (seeded apart from the stage's)")
    p.add_argument("--out", type=Path, help="results JSON")
    p.set_defaults(run=reader_diagnostics)

    p = commands.add_parser("ablation", help="four fusion scorers over a package's frozen encoder, same data and steps, on the ShapeWorld development sets")
    p.add_argument("--package", type=Path, required=True, help="the package whose encoder is shared, e.g. models/shapeworld-fusion")
    p.add_argument("--config", type=Path, required=True, help="a JSON file with a \"stage\" object (relational_stage.StageConfig)")
    p.add_argument("--data", type=Path, help="the ShapeWorld sets (default: $SHAPEWORLD_DATA, else tests/data/shapeworld)")
    p.add_argument("--out", type=Path, required=True, help="results JSON; a Markdown table is written beside it")
    p.add_argument("--steps", type=int, help="steps of every scorer (default: the config's)")
    p.add_argument("--kinds", nargs="+", choices=FUSION_KINDS, help="the scorers to train (default: all four)")
    p.set_defaults(run=ablation)

    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    args.run(args)


if __name__ == "__main__":
    main()
