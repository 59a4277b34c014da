"""The two baselines of the fusion ablation (issue 16): scorers that combine one vector per
modality, behind the same fusion contract (token ids, mask, image tokens -> one logit).

ConcatFusion  the founding brief's image-text example: an image branch (the CNN encoder's tokens,
              pooled), an LSTM text branch, their features concatenated (feature-level fusion)
              and an output MLP.
LateFusion    output-level fusion: each modality is embedded on its own and only the outputs
              meet, as a scaled dot product (CLIP's form).

Neither can say where in the image a word was read, so neither has explanation outputs.
Shape letters: B texts, N image tokens, D width, T tokens, E embedding width.
"""
from __future__ import annotations

import torch
from torch import nn

from .model import ModelConfig


class PooledImage(nn.Module):
    """Image tokens (B, N, D) -> (B, E): the mean and the maximum over the grid, projected."""

    def __init__(self, width: int, out: int):
        super().__init__()
        self.project = nn.Sequential(nn.Linear(2 * width, out), nn.GELU(), nn.Linear(out, out))

    def forward(self, image):
        return self.project(torch.cat([image.mean(1), image.amax(1)], -1))


class LstmText(nn.Module):
    """Token ids (B, T) -> (B, E): an LSTM's output at the last real token ([SEP])."""

    def __init__(self, vocab_size: int, out: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, out)
        self.lstm = nn.LSTM(out, out, batch_first=True)

    def forward(self, input_ids, attention_mask):
        outputs, _ = self.lstm(self.embed(input_ids))  # (B, T, E): padding comes after the text
        last = (attention_mask.sum(1) - 1).clamp(min=0)  # (B,)
        return outputs.gather(1, last[:, None, None].expand(-1, 1, outputs.size(-1))).squeeze(1)


class VectorFusion(nn.Module):
    """One vector per modality, then `combine`: the part in which the two baselines differ."""

    explanation_layers = 0  # no explanation outputs: nothing says where a word was read
    explanation_heads = 0

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.image = PooledImage(config.n_embd, config.n_embd)
        self.text = LstmText(config.vocab_size, config.n_embd)

    def forward(self, input_ids, attention_mask, image, texts_per_image: int = 1):
        image = self.image(image)  # (B / K, E) with K = texts_per_image consecutive texts per image
        if texts_per_image > 1:
            image = image.repeat_interleave(texts_per_image, 0)  # (B, E)
        return self.combine(image, self.text(input_ids, attention_mask))  # (B,)

    def scores_states_and_attentions(self, input_ids, attention_mask, image, texts_per_image: int = 1):
        return self(input_ids, attention_mask, image, texts_per_image), None, []


class ConcatFusion(VectorFusion):
    def __init__(self, config: ModelConfig):
        super().__init__(config)
        width = config.n_embd
        self.out = nn.Sequential(nn.Linear(2 * width, width), nn.GELU(), nn.Linear(width, 1))

    def combine(self, image, text):
        return self.out(torch.cat([image, text], -1)).squeeze(-1)


class LateFusion(VectorFusion):
    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.scale = nn.Parameter(torch.tensor(config.n_embd ** -0.5))
        self.bias = nn.Parameter(torch.zeros(()))

    def combine(self, image, text):
        return (image * text).sum(-1) * self.scale + self.bias
