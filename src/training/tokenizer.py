"""Word-level tokenization of ShapeWorld captions.

Captions are lower-case words separated by single spaces and end in " .", so every word is one
entry of the WordPiece vocabulary and no subwords are needed. This is the Python twin of what the
exported `tokenizer.json` does (lower-case, split on whitespace and punctuation, whole-word lookup);
the C# server tokenizes with the exported files, never with this code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
SPECIAL_TOKENS = (PAD, UNK, CLS, SEP, MASK)  # ids 0..4, the order of the package contract

# BERT's pre-tokenizer splits on whitespace and isolates every punctuation character.
_WORD_OR_PUNCTUATION = re.compile(r"\w+|[^\w\s]")


class WordTokenizer:
    def __init__(self, vocabulary: Sequence[str]):
        if tuple(vocabulary[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError(f"the vocabulary must start with {SPECIAL_TOKENS}")
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("the vocabulary has duplicate entries")
        self.vocabulary = list(vocabulary)
        self.ids = {token: i for i, token in enumerate(self.vocabulary)}
        self.pad_id, self.unk_id, self.cls_id, self.sep_id = (self.ids[t] for t in (PAD, UNK, CLS, SEP))

    def __len__(self) -> int:
        return len(self.vocabulary)

    def words(self, text: str) -> list[str]:
        return _WORD_OR_PUNCTUATION.findall(text.lower())

    def encode(self, text: str) -> list[int]:
        """`[CLS] w1 .. wn [SEP]`: the fusion input, and the caption decoder's teacher-forcing row."""
        return [self.cls_id, *(self.ids.get(w, self.unk_id) for w in self.words(text)), self.sep_id]

    def decode(self, ids: Sequence[int]) -> str:
        """Special tokens skipped, tokens joined by single spaces, stopping at the first [SEP]."""
        words = []
        for i in ids:
            if i == self.sep_id:
                break
            if i >= len(SPECIAL_TOKENS):
                words.append(self.vocabulary[i])
        return " ".join(words)

    def unknown_words(self, text: str) -> list[str]:
        return [w for w in self.words(text) if w not in self.ids]

    def pad(self, rows: Sequence[Sequence[int]], length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-pads token rows with [PAD]. Returns ids and attention mask, both int64 (B, L)."""
        length = length or max(len(r) for r in rows)
        ids = torch.full((len(rows), length), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), length), dtype=torch.long)
        for i, row in enumerate(rows):
            if len(row) > length:
                raise ValueError(f"{len(row)} tokens do not fit in {length}")
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, : len(row)] = 1
        return ids, mask
