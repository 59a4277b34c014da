"""A GPT-2 byte-level BPE tokenizer built for the caption words (for the vit-gpt2 test fixture).

GPT-2 maps every byte to a printable character (`byte_to_unicode`), splits text into words with a
leading space kept ("Ġred"), and merges adjacent symbols by rank. Here the merges are made so that
the caption words can become whole tokens; the 256 byte characters keep every text encodable.
`encode` is the reference the C# BPE tokenizer is checked against.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

END_OF_TEXT = "<|endoftext|>"
# GPT-2's pre-tokenizer pattern, with \p{L} and \p{N} narrowed to ASCII: captions are ASCII.
_PRE_TOKENIZE = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


@lru_cache(maxsize=1)
def byte_to_unicode() -> dict[int, str]:
    """GPT-2's table: printable bytes map to themselves, the others to code points from 256 up."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, codes)}


def pre_tokenize(text: str) -> list[str]:
    """Words with their leading space, in byte-level characters ("Ġred")."""
    table = byte_to_unicode()
    return ["".join(table[b] for b in piece.encode("utf-8")) for piece in _PRE_TOKENIZE.findall(text)]


class ByteLevelBPE:
    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]]):
        self.vocab = vocab
        self.merges = merges
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.inverse = {i: token for token, i in vocab.items()}
        self.end_of_text_id = vocab[END_OF_TEXT]

    @classmethod
    def for_words(cls, words: Iterable[str]) -> "ByteLevelBPE":
        """Byte alphabet first (GPT-2's order); then, per word, one merge per prefix ("s q",
        "sq u", ...); then one merge per word joining the leading space ("Ġ square"), ranked after
        every inner merge so that the space is joined last; <|endoftext|> last, as in GPT-2.
        Words can still split where another word's merge takes their letters first, as in any BPE."""
        alphabet = list(byte_to_unicode().values())
        vocab = {symbol: i for i, symbol in enumerate(alphabet)}
        merges: list[tuple[str, str]] = []

        def add(first: str, second: str) -> None:
            if first + second not in vocab:
                merges.append((first, second))
                vocab[first + second] = len(vocab)

        forms = [form for word in sorted(set(words)) for form in pre_tokenize(word)]
        for form in forms:
            for end in range(2, len(form) + 1):
                add(form[: end - 1], form[end - 1])
        space = byte_to_unicode()[ord(" ")]
        for form in forms:
            add(space, form)
        vocab[END_OF_TEXT] = len(vocab)
        return cls(vocab, merges)

    def _bpe(self, word: str) -> list[str]:
        symbols = list(word)
        while len(symbols) > 1:
            pairs = [(self.ranks.get((a, b), len(self.ranks)), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))]
            rank, _ = min(pairs)
            if rank == len(self.ranks):
                break
            first, second = self.merges[rank]
            merged, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == first and symbols[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            symbols = merged
        return symbols

    def encode(self, text: str) -> list[int]:
        return [self.vocab[token] for word in pre_tokenize(text) for token in self._bpe(word)]

    def decode(self, ids: Iterable[int]) -> str:
        """Special tokens skipped; bytes that are not valid UTF-8 become U+FFFD (as in GPT-2)."""
        from_unicode = {c: b for b, c in byte_to_unicode().items()}
        text = "".join(self.inverse[i] for i in ids if i != self.end_of_text_id)
        return bytes(from_unicode[c] for c in text).decode("utf-8", errors="replace")

    def vocab_json(self) -> dict[str, int]:
        return dict(self.vocab)

    def merges_txt(self) -> str:
        return "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in self.merges)

    def tokenizer_json(self) -> dict:
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {
                    "id": self.end_of_text_id,
                    "content": END_OF_TEXT,
                    "single_word": False,
                    "lstrip": False,
                    "rstrip": False,
                    "normalized": True,
                    "special": True,
                }
            ],
            "normalizer": None,
            "pre_tokenizer": byte_level,
            "post_processor": {**byte_level, "trim_offsets": False},
            "decoder": byte_level,
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": "",
                "end_of_word_suffix": "",
                "fuse_unk": False,
                "byte_fallback": False,
                "vocab": self.vocab_json(),
                "merges": [f"{a} {b}" for a, b in self.merges],
            },
        }
