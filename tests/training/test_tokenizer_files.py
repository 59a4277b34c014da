"""Tokenizer files agree with each other and with the Python tokenizers."""
from __future__ import annotations

import json

import pytest

from training.bpe import ByteLevelBPE, byte_to_unicode
from training.hf_files import tokenizer_config_json, tokenizer_json
from training.tokenizer import SPECIAL_TOKENS, WordTokenizer
from training.vocab import WORDS, vocabulary


@pytest.fixture(scope="module")
def tokenizer() -> WordTokenizer:
    return WordTokenizer(vocabulary())


def test_vocab_txt_order_is_the_tokenizer_json_vocabulary(tokenizer, tmp_path):
    from training.hf_files import write_hf_files
    from training.model import ModelConfig

    write_hf_files(tmp_path, ModelConfig(vocab_size=len(tokenizer)), tokenizer)
    lines = (tmp_path / "vocab.txt").read_text(encoding="utf-8").splitlines()
    vocab = json.loads((tmp_path / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    assert {token: i for i, token in enumerate(lines)} == vocab
    assert lines[:5] == list(SPECIAL_TOKENS)


def test_special_tokens_are_flagged_special(tokenizer):
    added = tokenizer_json(tokenizer)["added_tokens"]
    assert [(t["id"], t["content"]) for t in added] == list(enumerate(SPECIAL_TOKENS))
    assert all(t["special"] for t in added)
    assert tokenizer_config_json(tokenizer, 32)["clean_up_tokenization_spaces"] is False


def test_word_level_encoding(tokenizer):
    ids = tokenizer.encode("A red square is to the LEFT of a blue circle.")
    words = [tokenizer.vocabulary[i] for i in ids]
    assert words == ["[CLS]", "a", "red", "square", "is", "to", "the", "left", "of", "a", "blue", "circle", ".", "[SEP]"]
    assert tokenizer.encode("a purple square .")[2] == tokenizer.unk_id


def test_decode_skips_special_tokens_and_stops_at_sep(tokenizer):
    ids = tokenizer.encode("there is a red square .") + [tokenizer.ids["red"]]
    assert tokenizer.decode(ids) == "there is a red square ."


def test_padding(tokenizer):
    ids, mask = tokenizer.pad([[2, 10, 3], [2, 3]])
    assert ids.tolist() == [[2, 10, 3], [2, 3, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 1, 0]]


def test_byte_alphabet_is_gpt2s():
    table = byte_to_unicode()
    assert len(set(table.values())) == 256
    assert table[ord(" ")] == "Ġ" and table[ord("a")] == "a" and table[ord("\n")] == "Ċ"


def test_bpe_round_trips_captions_and_other_text():
    bpe = ByteLevelBPE.for_words(WORDS)
    for text in ("a red square is to the left of a blue circle .", "there is a cyan semicircle .", "Größe 3, naïve!"):
        assert bpe.decode(bpe.encode(text)) == text


def test_bpe_files_are_consistent():
    bpe = ByteLevelBPE.for_words(WORDS)
    vocab = bpe.vocab_json()
    assert sorted(vocab.values()) == list(range(len(vocab)))
    for a, b in bpe.merges:
        assert a in vocab and b in vocab and a + b in vocab
    assert bpe.merges_txt().splitlines()[1:] == [f"{a} {b}" for a, b in bpe.merges]
    assert vocab["<|endoftext|>"] == len(vocab) - 1
    model = bpe.tokenizer_json()["model"]
    assert model["vocab"] == vocab and model["type"] == "BPE"


def test_bpe_merges_whole_words_where_no_earlier_merge_interferes():
    bpe = ByteLevelBPE.for_words(("square",))
    assert [bpe.inverse[i] for i in bpe.encode("square square")] == ["square", "Ġsquare"]
