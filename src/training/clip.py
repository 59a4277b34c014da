"""CLIP, the architecture of openai/clip-vit-base-patch32, in one file (for `synth --preset clip-*`).

TextTransformer    token ids -> text embedding: token and learned position embeddings, pre-LN
                   blocks (causal self-attention, quick_gelu MLP), a final LayerNorm, the state of
                   the end-of-text token (the largest id of each row, as Hugging Face's CLIP finds
                   it when config.json's text eos_token_id is the legacy 2), a projection without bias.
VisionTransformer  pixels -> image embedding: a p x p stride-p convolution without bias, a class
                   token first, learned positions, a LayerNorm before the blocks (HF's
                   `pre_layrnorm`), pre-LN blocks, a LayerNorm on the class token, a projection
                   without bias.
Clip               both towers and `logit_scale`: logits_per_text = exp(logit_scale) * cosine.

The math is Hugging Face's CLIPModel (transformers 4.29, the version the reference config names);
parameter shapes match it, so a preset with the published sizes has its parameter count.

Shape letters: B text rows, I images, T tokens, H = W image side, p patch side,
N = (H / p)^2 + 1 image tokens (class token first), D width (text or vision), h heads,
d = D / h head size, E projection (embedding) size, V vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class ClipConfig:
    vocab_size: int = 49408  # V: CLIP's BPE; <|startoftext|> 49406, <|endoftext|> 49407
    max_positions: int = 77  # text positions (max_position_embeddings)
    text_width: int = 512  # text hidden_size
    text_heads: int = 8
    text_layers: int = 12
    text_mlp: int = 2048  # text intermediate_size
    image_size: int = 224  # H = W
    patch_size: int = 32  # p: 7 x 7 patches + class token = 50 image tokens
    vision_width: int = 768  # vision hidden_size
    vision_heads: int = 12
    vision_layers: int = 12
    vision_mlp: int = 3072  # vision intermediate_size
    projection_dim: int = 512  # E
    logit_scale: float = 2.6592  # log of the similarity scale: HF's logit_scale_init_value (trained CLIP: ln 100)
    eps: float = 1e-5  # layer_norm_eps of both towers

    def __post_init__(self) -> None:
        for width, heads in ((self.text_width, self.text_heads), (self.vision_width, self.vision_heads)):
            if width % heads != 0:
                raise ValueError(f"width {width} is not a multiple of {heads} heads")
        if self.image_size % self.patch_size != 0:
            raise ValueError(f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}")

    @property
    def image_tokens(self) -> int:
        """N: one token per patch, plus the class token."""
        return (self.image_size // self.patch_size) ** 2 + 1


def quick_gelu(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    """HF's CLIPAttention: separate q, k, v, out projections with bias."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads, self.head_dim = heads, width // heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(width, width) for _ in range(4))

    def forward(self, x, bias=None):  # x (B, T, D); bias (B, 1, T, T) additive, or None
        B, T, D = x.shape
        split = lambda t: t.view(B, T, self.heads, self.head_dim).transpose(1, 2)  # noqa: E731 (B, h, T, d)
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)  # (B, h, T, T)
        if bias is not None:
            scores = scores + bias
        out = F.softmax(scores, dim=-1) @ v  # (B, h, T, d)
        return self.out_proj(out.transpose(1, 2).reshape(B, T, D))  # (B, T, D)


class Block(nn.Module):
    """Pre-LN: x + attn(ln1(x)), then x + mlp(ln2(x)) with quick_gelu."""

    def __init__(self, width: int, heads: int, mlp: int, eps: float):
        super().__init__()
        self.layer_norm1, self.layer_norm2 = nn.LayerNorm(width, eps=eps), nn.LayerNorm(width, eps=eps)
        self.self_attn = Attention(width, heads)
        self.fc1, self.fc2 = nn.Linear(width, mlp), nn.Linear(mlp, width)

    def forward(self, x, bias=None):  # (B, T, D)
        x = x + self.self_attn(self.layer_norm1(x), bias)
        return x + self.fc2(quick_gelu(self.fc1(self.layer_norm2(x))))  # (B, T, D)


class TextTransformer(nn.Module):
    def __init__(self, c: ClipConfig):
        super().__init__()
        self.token_embedding = nn.Embedding(c.vocab_size, c.text_width)
        self.position_embedding = nn.Embedding(c.max_positions, c.text_width)
        self.layers = nn.ModuleList(Block(c.text_width, c.text_heads, c.text_mlp, c.eps) for _ in range(c.text_layers))
        self.final_layer_norm = nn.LayerNorm(c.text_width, eps=c.eps)
        self.text_projection = nn.Linear(c.text_width, c.projection_dim, bias=False)

    def forward(self, input_ids, attention_mask=None):  # (B, T) int64, (B, T) 1 = token, 0 = padding
        B, T = input_ids.shape
        x = self.token_embedding(input_ids) + self.position_embedding.weight[:T]  # (B, T, D)
        lowest = torch.finfo(x.dtype).min
        causal = torch.full((T, T), lowest, dtype=x.dtype, device=x.device).triu(1)  # (T, T): 0 on and below the diagonal
        bias = causal.view(1, 1, T, T)
        if attention_mask is not None:
            bias = bias + (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * lowest  # (B, 1, T, T)
        for layer in self.layers:
            x = layer(x, bias)
        last_hidden_state = self.final_layer_norm(x)  # (B, T, D)
        # Cast before argmax, as HF does: ONNX Runtime has no int64 ArgMax.
        eos = input_ids.to(torch.int32).argmax(dim=-1)  # (B,) first position of the largest id: <|endoftext|>
        pooled = last_hidden_state[torch.arange(B, device=x.device), eos]  # (B, D)
        return self.text_projection(pooled), last_hidden_state  # (B, E), (B, T, D)


class VisionTransformer(nn.Module):
    def __init__(self, c: ClipConfig):
        super().__init__()
        self.class_embedding = nn.Parameter(torch.randn(c.vision_width))
        self.patch_embedding = nn.Conv2d(3, c.vision_width, kernel_size=c.patch_size, stride=c.patch_size, bias=False)
        self.position_embedding = nn.Embedding(c.image_tokens, c.vision_width)
        self.pre_layrnorm = nn.LayerNorm(c.vision_width, eps=c.eps)
        self.layers = nn.ModuleList(Block(c.vision_width, c.vision_heads, c.vision_mlp, c.eps) for _ in range(c.vision_layers))
        self.post_layernorm = nn.LayerNorm(c.vision_width, eps=c.eps)
        self.visual_projection = nn.Linear(c.vision_width, c.projection_dim, bias=False)

    def forward(self, pixel_values):  # (I, 3, H, W)
        patches = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)  # (I, N-1, D)
        cls = self.class_embedding.view(1, 1, -1).expand(patches.size(0), 1, -1)  # (I, 1, D)
        x = torch.cat([cls, patches], dim=1) + self.position_embedding.weight  # (I, N, D)
        x = self.pre_layrnorm(x)
        for layer in self.layers:
            x = layer(x)
        pooled = self.post_layernorm(x[:, 0])  # (I, D)
        return self.visual_projection(pooled), x  # (I, E), (I, N, D): last_hidden_state is before post_layernorm


class Clip(nn.Module):
    def __init__(self, config: ClipConfig):
        super().__init__()
        self.config = config
        self.text_model = TextTransformer(config)
        self.vision_model = VisionTransformer(config)
        self.logit_scale = nn.Parameter(torch.tensor(config.logit_scale))

    def forward(self, input_ids, pixel_values, attention_mask=None):
        text_embeds, _ = self.text_model(input_ids, attention_mask)  # (B, E)
        image_embeds, _ = self.vision_model(pixel_values)  # (I, E)
        text_embeds = text_embeds / text_embeds.norm(dim=-1, keepdim=True)
        image_embeds = image_embeds / image_embeds.norm(dim=-1, keepdim=True)
        logits_per_text = self.logit_scale.exp() * text_embeds @ image_embeds.t()  # (B, I)
        return logits_per_text.t(), logits_per_text, text_embeds, image_embeds  # (I, B), (B, I), (B, E), (I, E)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
