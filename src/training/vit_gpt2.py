"""ViT + GPT-2, the architecture of nlpconnect/vit-gpt2-image-captioning, in one file (for `synth`).

VisionTransformer  pixels -> patch tokens: a 16x16 stride-16 convolution, a CLS token first,
                   learned positions, pre-LN blocks (self-attention, GELU MLP), a final LayerNorm
                   (Hugging Face ViTModel without its pooler, which image-to-text never reads).
Gpt2Decoder        GPT-2 with cross-attention (add_cross_attention): token and position
                   embeddings, pre-LN blocks (causal self-attention with a KV cache,
                   cross-attention to the image tokens, gelu_new MLP), a final LayerNorm and an LM
                   head tied to the token embedding.

The parameter shapes are Hugging Face's (GPT-2's fused c_attn included): with the defaults,
238,605,312 parameters (the ViT pooler's 590,592 are not built). The modules keep the attribute
names and call signatures of model.py's ImageEncoder (`position`) and CaptionDecoder
(`blocks[i].self_attn`, `blocks[i].cross_attn.keys_values`, `wte`, `image_keys_values`), so
onnx_graphs exports them.

Shape letters: B batch, H = W image side, p patch side, N = (H / p)^2 + 1 image tokens (CLS
first), D width, T text tokens in this call, P cached (past) tokens, S = P + T, h heads,
d = D / h head size, V vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .model import row_position_inputs


@dataclass
class VitGpt2Config:
    image_size: int = 224  # H = W: ViT-B/16 at 224x224
    patch_size: int = 16  # p: 14 x 14 patches + CLS = 197 image tokens
    n_embd: int = 768  # D: ViT hidden_size and GPT-2 n_embd (equal, so no projection between them)
    n_head: int = 12  # h: heads of every attention; d = 64
    encoder_layers: int = 12  # ViT num_hidden_layers
    decoder_layers: int = 12  # GPT-2 n_layer
    mlp_ratio: int = 4  # MLP width = 4 D (ViT intermediate_size 3072; GPT-2 n_inner null = 4 D)
    vocab_size: int = 50257  # V: GPT-2's byte-level BPE, <|endoftext|> = 50256
    n_positions: int = 1024  # GPT-2's learned positions
    encoder_eps: float = 1e-12  # ViT layer_norm_eps
    decoder_eps: float = 1e-5  # GPT-2 layer_norm_epsilon
    initializer_range: float = 0.02  # std of the random weights (both configs say 0.02) ...
    cross_attention_std: float = 0.2  # ... except cross-attention's: at 0.02 every image got the same caption

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head != 0:
            raise ValueError(f"n_embd {self.n_embd} is not a multiple of n_head {self.n_head}")
        if self.image_size % self.patch_size != 0:
            raise ValueError(f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}")

    @property
    def image_tokens(self) -> int:
        """N: one token per patch, plus CLS."""
        return (self.image_size // self.patch_size) ** 2 + 1


def attend(q, k, v, scale: float, allowed=None):
    """q (B, h, T, d), k and v (B, h, S, d); `allowed` broadcasts to (B, h, T, S) -> (B, h, T, d)."""
    scores = (q @ k.transpose(-2, -1)) * scale  # (B, h, T, S)
    if allowed is not None:
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
    return F.softmax(scores, dim=-1) @ v  # (B, h, T, d)


def split_heads(x, n_head: int):
    B, L, D = x.shape
    return x.view(B, L, n_head, D // n_head).transpose(1, 2)  # (B, h, L, d)


def merge_heads(y):
    B, _, T, _ = y.shape
    return y.transpose(1, 2).reshape(B, T, -1)  # (B, h, T, d) -> (B, T, D)


class Mlp(nn.Module):
    def __init__(self, config: VitGpt2Config, gelu: str):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, config.mlp_ratio * config.n_embd)
        self.c_proj = nn.Linear(config.mlp_ratio * config.n_embd, config.n_embd)
        self.gelu = gelu  # "none": ViT's exact GELU; "tanh": GPT-2's gelu_new

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate=self.gelu))  # (B, T, D)


class VitAttention(nn.Module):
    """ViT self-attention: separate query, key and value projections, as in ViTSelfAttention."""

    def __init__(self, config: VitGpt2Config):
        super().__init__()
        self.n_head = config.n_head
        self.scale = 1.0 / math.sqrt(config.n_embd // config.n_head)
        self.query = nn.Linear(config.n_embd, config.n_embd)
        self.key = nn.Linear(config.n_embd, config.n_embd)
        self.value = nn.Linear(config.n_embd, config.n_embd)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)

    def forward(self, x):
        q, k, v = (split_heads(f(x), self.n_head) for f in (self.query, self.key, self.value))  # (B, h, N, d) each
        return self.c_proj(merge_heads(attend(q, k, v, self.scale)))  # (B, N, D)


class VitBlock(nn.Module):
    def __init__(self, config: VitGpt2Config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.encoder_eps)
        self.attn = VitAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.encoder_eps)
        self.mlp = Mlp(config, gelu="none")

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))  # (B, N, D)
        return x + self.mlp(self.ln_2(x))  # (B, N, D)


class VisionTransformer(nn.Module):
    def __init__(self, config: VitGpt2Config):
        super().__init__()
        self.patch = nn.Conv2d(3, config.n_embd, config.patch_size, stride=config.patch_size)
        self.cls = nn.Parameter(torch.zeros(1, 1, config.n_embd))  # (1, 1, D)
        self.position = nn.Parameter(torch.zeros(1, config.image_tokens, config.n_embd))  # (1, N, D)
        self.blocks = nn.ModuleList(VitBlock(config) for _ in range(config.encoder_layers))
        self.ln_f = nn.LayerNorm(config.n_embd, eps=config.encoder_eps)

    def forward(self, pixel_values):
        B = pixel_values.size(0)
        patches = self.patch(pixel_values).flatten(2).transpose(1, 2)  # (B, D, H/p, W/p) -> (B, N - 1, D)
        x = torch.cat([self.cls.expand(B, -1, -1), patches], dim=1) + self.position  # (B, N, D)
        for block in self.blocks:
            x = block(x)  # (B, N, D)
        return self.ln_f(x)  # (B, N, D)


class Gpt2SelfAttention(nn.Module):
    """Causal self-attention with one fused c_attn for queries, keys and values (GPT-2's layout)."""

    def __init__(self, config: VitGpt2Config):
        super().__init__()
        self.n_head = config.n_head
        self.scale = 1.0 / math.sqrt(config.n_embd // config.n_head)
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)

    def forward(self, x, allowed, past=None):
        q, k, v = (split_heads(t, self.n_head) for t in self.c_attn(x).chunk(3, dim=-1))  # (B, h, T, d) each
        if past is not None:
            k = torch.cat([past[0], k], dim=2)  # (B, h, S, d)
            v = torch.cat([past[1], v], dim=2)  # (B, h, S, d)
        return self.c_proj(merge_heads(attend(q, k, v, self.scale, allowed))), (k, v)  # (B, T, D), cache


class Gpt2CrossAttention(nn.Module):
    """GPT-2's cross-attention: q_attn for the text's queries, a fused c_attn for the image's keys and values."""

    def __init__(self, config: VitGpt2Config):
        super().__init__()
        self.n_head = config.n_head
        self.scale = 1.0 / math.sqrt(config.n_embd // config.n_head)
        self.q_attn = nn.Linear(config.n_embd, config.n_embd)
        self.c_attn = nn.Linear(config.n_embd, 2 * config.n_embd)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)

    def keys_values(self, image):
        """(B, h, N, d) keys and values of the image tokens (B, N, D)."""
        k, v = self.c_attn(image).chunk(2, dim=-1)  # (B, N, D) each
        return split_heads(k, self.n_head), split_heads(v, self.n_head)

    def forward(self, x, image, image_keys_values=None):
        q = split_heads(self.q_attn(x), self.n_head)  # (B, h, T, d)
        k, v = self.keys_values(image) if image_keys_values is None else image_keys_values  # (B, h, N, d)
        return self.c_proj(merge_heads(attend(q, k, v, self.scale)))  # (B, T, D)


class Gpt2Block(nn.Module):
    def __init__(self, config: VitGpt2Config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.decoder_eps)
        self.self_attn = Gpt2SelfAttention(config)
        self.ln_cross_attn = nn.LayerNorm(config.n_embd, eps=config.decoder_eps)
        self.cross_attn = Gpt2CrossAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.decoder_eps)
        self.mlp = Mlp(config, gelu="tanh")

    def forward(self, x, allowed, image, past=None, image_keys_values=None):
        y, present = self.self_attn(self.ln_1(x), allowed, past)
        x = x + y  # (B, T, D)
        x = x + self.cross_attn(self.ln_cross_attn(x), image, image_keys_values)  # (B, T, D)
        return x + self.mlp(self.ln_2(x)), present  # (B, T, D), (B, h, S, d) twice


class Gpt2Decoder(nn.Module):
    def __init__(self, config: VitGpt2Config):
        super().__init__()
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)
        self.blocks = nn.ModuleList(Gpt2Block(config) for _ in range(config.decoder_layers))
        self.ln_f = nn.LayerNorm(config.n_embd, eps=config.decoder_eps)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied (tie_word_embeddings)

    def image_keys_values(self, image):
        """Each layer's cross-attention (keys, values) of the image tokens (B, N, D), each (B, h, N, d)."""
        return [block.cross_attn.keys_values(image) for block in self.blocks]

    def forward(self, input_ids, image, past=None, image_keys_values=None, attention_mask=None, position_ids=None):
        """input_ids (B, T), image (B, N, D), past: one (key, value) pair of (B, h, P, d) per layer or
        None; or image_keys_values in place of image. attention_mask (B, S) and position_ids (B, T):
        rows at different positions (model.row_position_inputs). Returns logits (B, T, V) and the
        caches (B, h, S, d)."""
        T = input_ids.size(1)
        P = 0 if past is None else past[0][0].size(2)
        query_pos = torch.arange(P, P + T, device=input_ids.device)  # (T,) positions continue after the cache
        key_pos = torch.arange(0, P + T, device=input_ids.device)  # (S,)
        causal = key_pos[None, :] <= query_pos[:, None]  # (T, S)
        allowed, positions = row_position_inputs(causal, query_pos, attention_mask, position_ids)
        x = self.wte(input_ids) + self.wpe(positions)  # (B, T, D)
        presents = []
        for i, block in enumerate(self.blocks):
            x, present = block(
                x, allowed, image, None if past is None else past[i],
                None if image_keys_values is None else image_keys_values[i],
            )
            presents.append(present)
        return self.lm_head(self.ln_f(x)), presents  # (B, T, V)


class VitGpt2(nn.Module):
    def __init__(self, config: VitGpt2Config):
        super().__init__()
        self.config = config
        self.encoder = VisionTransformer(config)
        self.decoder = Gpt2Decoder(config)
        std = config.initializer_range
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=std)
                if getattr(module, "bias", None) is not None:
                    nn.init.zeros_(module.bias)
        nn.init.normal_(self.encoder.cls, std=std)
        nn.init.normal_(self.encoder.position, std=std)
        for block in self.decoder.blocks:
            # GPT-2: residual projections scaled by 1 / sqrt(2 n_layer).
            for projection in (block.self_attn.c_proj, block.mlp.c_proj):
                nn.init.normal_(projection.weight, mean=0.0, std=std / math.sqrt(2 * config.decoder_layers))
            # Random weights are not a trained model: with every weight at 0.02 the residual stream
            # is the token embedding, and greedy decoding repeated one token whatever the image
            # (1 distinct caption for 8 images, base and mini alike). Ten times larger
            # cross-attention weights make the captions depend on the image (8 distinct of 8, 2 to
            # 13 distinct tokens in 16), so that comparing engines' captions means something.
            for linear in (block.cross_attn.q_attn, block.cross_attn.c_attn, block.cross_attn.c_proj):
                nn.init.normal_(linear.weight, mean=0.0, std=config.cross_attention_std)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())  # the tied LM head counts once

    @torch.no_grad()
    def generate(self, pixel_values, start_id: int, end_id: int, max_new_tokens: int):
        """Greedy ids (B, 1 + up to max_new_tokens), start token first; after an end token, end tokens."""
        image_keys_values = self.decoder.image_keys_values(self.encoder(pixel_values))  # [(B, h, N, d)] * 2L
        ids = torch.full((pixel_values.size(0), 1), start_id, dtype=torch.long)  # (B, 1)
        finished = torch.zeros(pixel_values.size(0), dtype=torch.bool)  # (B,)
        past, next_input = None, ids
        for _ in range(max_new_tokens):
            logits, past = self.decoder(next_input, None, past, image_keys_values=image_keys_values)  # (B, 1, V)
            next_id = torch.where(finished, torch.full_like(finished, end_id, dtype=torch.long), logits[:, -1].argmax(-1))  # (B,)
            finished |= next_id == end_id
            next_input = next_id[:, None]  # (B, 1)
            ids = torch.cat([ids, next_input], dim=1)
            if bool(finished.all()):
                break
        return ids
