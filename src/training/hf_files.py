"""The Hugging Face side of a model package: config, generation, preprocessing and tokenizer files.

These files make the captioning half loadable by transformers.js (vision-encoder-decoder with a
GPT-2 decoder block) and describe the tokenizer to the C# server (see models/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path

from .model import ModelConfig
from .pixels import IMAGE_MEAN, IMAGE_STD, RESAMPLE_BILINEAR
from .tokenizer import CLS, MASK, PAD, SEP, SPECIAL_TOKENS, UNK, WordTokenizer


def write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def token_ids(tokenizer: WordTokenizer) -> dict[str, int]:
    """Captioning starts from [CLS] and stops at [SEP]; bos is [CLS] so that no consumer falls back
    to a different start token."""
    return {
        "decoder_start_token_id": tokenizer.cls_id,
        "bos_token_id": tokenizer.cls_id,
        "eos_token_id": tokenizer.sep_id,
        "pad_token_id": tokenizer.pad_id,
    }


def gpt2_decoder_block(config: ModelConfig, ids: dict) -> dict:
    """config.json's decoder block: gpt2, so that transformers.js names the cache inputs
    past_key_values.{i}.key/.value and sizes the empty step-0 cache from n_layer, n_head, n_embd."""
    return {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "is_decoder": True,
        "add_cross_attention": True,
        "n_layer": config.n_decoder_layer,
        "n_head": config.n_head,
        "n_embd": config.n_embd,
        "n_positions": config.n_positions,
        "n_inner": config.mlp_ratio * config.n_embd,
        "activation_function": "gelu",
        "vocab_size": config.vocab_size,
        **ids,
    }


def model_config_json(config: ModelConfig, tokenizer: WordTokenizer) -> dict:
    ids = token_ids(tokenizer)
    return {
        "architectures": ["VisionEncoderDecoderModel"],
        "model_type": "vision-encoder-decoder",
        "is_encoder_decoder": True,
        "tie_word_embeddings": False,
        **ids,
        "max_length": config.n_positions,
        "encoder": {
            # Not a ViT: a CNN whose grid of image tokens plays the role of ViT's patch tokens.
            "model_type": "shapeworld-cnn",
            "image_size": config.image_size,
            "num_channels": 3,
            "hidden_size": config.n_embd,
            "grid_size": config.grid_size,
            "cnn_channels": list(config.cnn_channels),
            "num_hidden_layers": config.n_encoder_layer,
            "num_attention_heads": config.n_head,
        },
        "decoder": gpt2_decoder_block(config, ids),
        "fusion": {
            "kind": config.fusion,  # model.ModelConfig.fusion
            "slot_reader": config.slot_reader,  # model.ModelConfig.slot_reader (the relational scorer's)
            "num_hidden_layers": config.n_fusion_layer,
            "num_attention_heads": config.n_head,
            "hidden_size": config.n_embd,
        },
    }


def generation_config_json(config: ModelConfig, tokenizer: WordTokenizer) -> dict:
    return {**token_ids(tokenizer), "max_length": config.n_positions, "do_sample": False, "num_beams": 1}


def preprocessor_config_json(config: ModelConfig) -> dict:
    return {
        "image_processor_type": "ViTImageProcessor",
        "do_resize": True,
        "size": {"height": config.image_size, "width": config.image_size},
        "resample": RESAMPLE_BILINEAR,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,  # transformers.js defaults to off: always explicit
        "image_mean": list(IMAGE_MEAN),
        "image_std": list(IMAGE_STD),
    }


def _special_token_entry(token_id: int, content: str) -> dict:
    return {
        "id": token_id,
        "content": content,
        "single_word": False,
        "lstrip": False,
        "rstrip": False,
        "normalized": False,
        "special": True,
    }


def tokenizer_json(tokenizer: WordTokenizer) -> dict:
    """A `tokenizers` WordPiece tokenizer: lower-case, BERT pre-tokenizer, `[CLS] $A [SEP]`."""
    cls_id, sep_id = tokenizer.cls_id, tokenizer.sep_id

    def special(token: str) -> dict:
        return {"SpecialToken": {"id": token, "type_id": 0}}

    def sequence(name: str, type_id: int) -> dict:
        return {"Sequence": {"id": name, "type_id": type_id}}

    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [_special_token_entry(tokenizer.ids[t], t) for t in SPECIAL_TOKENS],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [special(CLS), sequence("A", 0), special(SEP)],
            "pair": [special(CLS), sequence("A", 0), special(SEP), sequence("B", 1), special(SEP)],
            "special_tokens": {
                CLS: {"id": CLS, "ids": [cls_id], "tokens": [CLS]},
                SEP: {"id": SEP, "ids": [sep_id], "tokens": [SEP]},
            },
        },
        # cleanup false: captions keep " ." exactly as the training targets have it.
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": False},
        "model": {
            "type": "WordPiece",
            "unk_token": UNK,
            "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100,
            "vocab": {token: i for i, token in enumerate(tokenizer.vocabulary)},
        },
    }


def tokenizer_config_json(tokenizer: WordTokenizer, max_length: int) -> dict:
    return {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": True,
        "tokenize_chinese_chars": True,
        "strip_accents": None,
        "clean_up_tokenization_spaces": False,
        "model_max_length": max_length,
        "pad_token": PAD,
        "unk_token": UNK,
        "cls_token": CLS,
        "sep_token": SEP,
        "mask_token": MASK,
        "added_tokens_decoder": {str(tokenizer.ids[t]): _special_token_entry(tokenizer.ids[t], t) for t in SPECIAL_TOKENS},
    }


def special_tokens_map_json() -> dict:
    return {"pad_token": PAD, "unk_token": UNK, "cls_token": CLS, "sep_token": SEP, "mask_token": MASK}


def write_hf_files(directory: Path, config: ModelConfig, tokenizer: WordTokenizer) -> None:
    write_json(directory / "config.json", model_config_json(config, tokenizer))
    write_json(directory / "generation_config.json", generation_config_json(config, tokenizer))
    write_json(directory / "preprocessor_config.json", preprocessor_config_json(config))
    write_json(directory / "tokenizer.json", tokenizer_json(tokenizer))
    write_json(directory / "tokenizer_config.json", tokenizer_config_json(tokenizer, config.n_positions))
    write_json(directory / "special_tokens_map.json", special_tokens_map_json())
    (directory / "vocab.txt").write_text("".join(f"{token}\n" for token in tokenizer.vocabulary), encoding="utf-8")
