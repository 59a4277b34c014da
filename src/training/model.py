"""The CaptionService model, in one file: a shared image encoder, a caption decoder and a fusion scorer.

ImageEncoder   pixels -> a grid of image tokens (CNN with stride-2 stages, CoordConv channels, a
               dilated last convolution, learned 2-D positions, then self-attention so that
               tokens can relate objects).
CaptionDecoder GPT-2-style: causal self-attention with a KV cache, cross-attention to the image
               tokens in every layer, learned positions that continue from the cached length.
FusionScorer   image-text matching: text tokens attend to each other (bidirectionally) and to the
               image tokens in every layer, and also read the evidence of that attention (how
               well the best image token matches, how many match); the [CLS] state gives one logit.

Late fusion of pooled image features is weak on spatial relations, so both text branches read the
image through attention over the whole grid rather than through one pooled vector.

Shape letters used in the comments:
  B batch, H/W image height/width, G grid side, N = G*G image tokens, D width (n_embd),
  T text tokens in this call, P cached (past) tokens, S = P + T, h heads, d head size, V vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn
from torch.nn import functional as F


FUSION_KINDS = ("attention", "relational", "concat", "late")
SLOT_READERS = ("token", "peaks")


@dataclass
class ModelConfig:
    vocab_size: int = 64  # V: special tokens + caption words; set from the vocabulary when building
    image_size: int = 100  # H = W: ShapeWorld images are 100x100
    cnn_channels: tuple[int, ...] = (32, 64)  # widths of the stride-2 stages before the last (last = n_embd)
    n_embd: int = 128  # D: width of image tokens, text tokens and every attention
    n_head: int = 4  # h: heads per attention; head size d = n_embd // n_head
    n_encoder_layer: int = 2  # self-attention blocks over the image grid (relations between objects)
    n_decoder_layer: int = 3  # caption blocks: causal self-attention + cross-attention + MLP
    n_fusion_layer: int = 3  # matching blocks: bidirectional self-attention + cross-attention + MLP
    n_positions: int = 32  # longest token sequence, [CLS] and [SEP] included
    mlp_ratio: int = 4  # MLP hidden width = mlp_ratio * n_embd
    probe_colors: int = 8  # grid probe classes: background + 7 colours (training only)
    probe_shapes: int = 9  # grid probe classes: background + 8 shapes (training only)
    probe_attributes: int = 3  # per-token regression targets: object centre here, its area, its shade (training only)
    dropout: float = 0.0  # on attention outputs and MLPs; the synthetic data is unlimited, so 0 by default
    where_evidence: bool = False  # the fusion's cross-attention also reports where it looked (EvidenceAttention)
    # The fusion scorer: "attention" (FusionScorer: text attends to the image grid), "relational"
    # (relational_fusion.RelationalFusion: soft logic over the objects found), or the ablation's
    # baselines "concat" and "late" (baseline_fusion.py: one vector per modality).
    fusion: str = "attention"
    # The relational scorer's slot reader (relational_fusion.SlotReader): "token" takes the
    # likeliest centres as they are (package 1.3.0); "peaks" drops a centre whose 3x3 neighbourhood
    # holds a likelier one of the same colour and shape, so that an object yields one slot, not one
    # per cell that it covers.
    slot_reader: str = "token"

    def __post_init__(self) -> None:
        self.cnn_channels = tuple(self.cnn_channels)  # JSON round trips give lists
        if self.fusion not in FUSION_KINDS:
            raise ValueError(f"fusion {self.fusion!r} is not one of {FUSION_KINDS}")
        if self.slot_reader not in SLOT_READERS:
            raise ValueError(f"slot_reader {self.slot_reader!r} is not one of {SLOT_READERS}")
        if self.n_embd % self.n_head != 0:
            raise ValueError(f"n_embd {self.n_embd} is not a multiple of n_head {self.n_head}")

    @property
    def head_size(self) -> int:
        return self.n_embd // self.n_head

    @property
    def grid_size(self) -> int:
        """G: side of the token grid; each stage is a 3x3 stride-2 convolution with padding 1."""
        side = self.image_size
        for _ in range(len(self.cnn_channels) + 1):
            side = (side - 1) // 2 + 1  # 100 -> 50 -> 25 -> 13
        return side

    def to_dict(self) -> dict:
        return {**asdict(self), "cnn_channels": list(self.cnn_channels)}

    @classmethod
    def from_dict(cls, values: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, allowed: torch.Tensor | None, scale: float):
    """Scaled dot-product attention. `allowed` broadcasts to (B, h, T, S); False hides a key."""
    scores = (q @ k.transpose(-2, -1)) * scale  # (B, h, T, S)
    if allowed is not None:
        # The most negative finite value rather than -inf: a fully hidden row stays finite in ONNX.
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
    weights = F.softmax(scores, dim=-1)  # (B, h, T, S)
    return weights @ v, weights  # (B, h, T, d), (B, h, T, S)


def row_position_inputs(causal, query_pos, attention_mask=None, position_ids=None):
    """The attention pattern and positions of a decoder call whose rows may sit at different
    positions: a server merges requests that started at different steps into one batch by
    left-padding the shorter rows' caches. attention_mask (B, S) hides the padding; position_ids
    (B, T) give each row's own positions. Without them: `causal` (T, S) and `query_pos` (T,)."""
    allowed = causal if attention_mask is None else causal[None, None] & attention_mask.bool()[:, None, None, :]  # (B, 1, T, S)
    return allowed, query_pos if position_ids is None else position_ids


class MultiHeadAttention(nn.Module):
    """Self- or cross-attention. Keys and values come from `source` (self-attention: source is x)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.n_head = config.n_head
        self.scale = 1.0 / math.sqrt(config.head_size)  # a Python float, so traced graphs hold a constant
        self.query = nn.Linear(config.n_embd, config.n_embd)
        self.key = nn.Linear(config.n_embd, config.n_embd)
        self.value = nn.Linear(config.n_embd, config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        self.dropout = nn.Dropout(config.dropout)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, L, D = x.shape
        return x.view(B, L, self.n_head, D // self.n_head).transpose(1, 2)  # (B, h, L, d)

    @staticmethod
    def merge_heads(y: torch.Tensor) -> torch.Tensor:
        B, _, T, _ = y.shape
        return y.transpose(1, 2).reshape(B, T, -1)  # (B, h, T, d) -> (B, T, D)

    def keys_values(self, source):
        """(B, h, T or N, d) keys and values of source."""
        return self.split_heads(self.key(source)), self.split_heads(self.value(source))

    def queries_keys_values(self, x, source, source_keys_values=None):
        """(B, h, T, d) queries of x; (B, h, T or N, d) keys and values of source, or
        `source_keys_values` when given: `keys_values(source)` computed earlier. A caption's image
        tokens do not change while it is decoded, and projecting them again at every step was 95%
        of a decoder step's multiply-adds (169 image tokens against 1 new token)."""
        q = self.split_heads(self.query(x))
        k, v = self.keys_values(source) if source_keys_values is None else source_keys_values
        return q, k, v

    def forward(self, x, source, allowed=None, past=None, source_keys_values=None):
        """Returns the output, the (key, value) cache including this call's tokens, and the weights."""
        q, k, v = self.queries_keys_values(x, source, source_keys_values)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)  # (B, h, S, d)
            v = torch.cat([past[1], v], dim=2)  # (B, h, S, d)
        y, weights = attend(q, k, v, allowed, self.scale)  # (B, h, T, d), (B, h, T, S)
        return self.dropout(self.proj(self.merge_heads(y))), (k, v), weights


class EvidenceAttention(MultiHeadAttention):
    """Cross-attention that also reports, per head and query, how strongly the image matches.

    Softmax attention normalises its weights, so a query "red square" reads an average of the best
    matching tokens whether or not any of them is a red square, and the layers above must compare
    what they read with what they asked for. Training measured that this is slow to learn (a 3-layer
    scorer on perfect per-token colour and shape labels was still at chance on "there is a red
    square" after 750 steps). The evidence is the raw score: its maximum over the image tokens
    says whether something matches ("there is"), and its soft count how many do ("at least
    two"). With it, that scorer reached 83% at step 750."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.evidence = nn.Linear(2 * config.n_head, config.n_embd)
        self.count_threshold = nn.Parameter(torch.zeros(1, config.n_head, 1, 1))
        # Where each head looked: the attention-weighted mean (x, y) of the image tokens, in -1..1.
        # "a red square is to the left of a blue circle" is then a comparison of two numbers that
        # the noun phrases read, instead of one decoded from the attended values. (Measured on
        # 1.2.0: two heads of the first block put "square" 0.05 from the square's centre on average,
        # in these -1..1 coordinates.)
        self.where = nn.Linear(2 * config.n_head, config.n_embd) if config.where_evidence else None
        if self.where is not None:
            side = torch.linspace(-1.0, 1.0, config.grid_size)
            rows, columns = torch.meshgrid(side, side, indexing="ij")
            self.register_buffer("token_xy", torch.stack([columns.flatten(), rows.flatten()], dim=-1), persistent=False)  # (N, 2)

    def forward(self, x, source, allowed=None, past=None, source_keys_values=None):
        q, k, v = self.queries_keys_values(x, source, source_keys_values)  # (B, h, T, d), (B, h, N, d) twice
        scores = (q @ k.transpose(-2, -1)) * self.scale  # (B, h, T, N)
        weights = F.softmax(scores, dim=-1)  # (B, h, T, N)
        y = self.merge_heads(weights @ v)  # (B, T, D)
        best = scores.amax(dim=-1)  # (B, h, T)
        # log(1 + x) rather than log1p: exported graphs stay within plain ONNX operators.
        count = torch.log(1.0 + torch.sigmoid(scores - self.count_threshold).sum(dim=-1))  # (B, h, T)
        evidence = torch.cat([best, count], dim=1).transpose(1, 2)  # (B, T, 2h)
        out = self.proj(y) + self.evidence(evidence)  # (B, T, D)
        if self.where is not None:
            where = self.merge_heads(weights @ self.token_xy)  # (B, h, T, 2) -> (B, T, 2h)
            out = out + self.where(where)
        return self.dropout(out), (k, v), weights


class MLP(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.fc = nn.Linear(config.n_embd, config.mlp_ratio * config.n_embd)
        self.proj = nn.Linear(config.mlp_ratio * config.n_embd, config.n_embd)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.proj(F.gelu(self.fc(x))))  # (B, T, D)


class Block(nn.Module):
    """Pre-norm transformer block: self-attention, optional cross-attention to image tokens, MLP."""

    def __init__(self, config: ModelConfig, cross_attention: bool, evidence: bool = False):
        super().__init__()
        self.ln_self = nn.LayerNorm(config.n_embd)
        self.self_attn = MultiHeadAttention(config)
        self.ln_cross = nn.LayerNorm(config.n_embd) if cross_attention else None
        attention = EvidenceAttention if evidence else MultiHeadAttention
        self.cross_attn = attention(config) if cross_attention else None
        self.ln_mlp = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x, allowed=None, image=None, past=None, texts_per_image: int = 1, image_keys_values=None):
        """x (B, T, D); image (B, N, D), or (B / K, N, D) when K = texts_per_image consecutive rows
        of x belong to each image; or instead of image, its cross-attention keys and values
        (`cross_attn.keys_values(image)`). Returns x, the self-attention cache, the cross-attention
        weights."""
        h = self.ln_self(x)
        y, present, _ = self.self_attn(h, h, allowed, past)
        x = x + y  # (B, T, D)
        cross_weights = None
        if self.cross_attn is not None:
            h = self.ln_cross(x)
            if texts_per_image == 1:
                y, _, cross_weights = self.cross_attn(h, image, source_keys_values=image_keys_values)  # (B, T, D), (B, h, T, N)
            else:
                # Queries attend independently, so an image's K texts can share one row: the
                # image's keys and values are then computed once instead of K times.
                B, T, D = h.shape
                h = h.reshape(B // texts_per_image, texts_per_image * T, D)  # (B / K, K * T, D)
                y, _, cross_weights = self.cross_attn(h, image)  # (B / K, K * T, D), (B / K, h, K * T, N)
                y = y.reshape(B, T, D)
            x = x + y
        x = x + self.mlp(self.ln_mlp(x))  # (B, T, D)
        return x, present, cross_weights


class ImageEncoder(nn.Module):
    """Pixels (normalised) -> image tokens. Shared by the caption decoder and the fusion scorer."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 3 + 2  # RGB + CoordConv x, y: where a shape is matters for relations
        widths = (*config.cnn_channels, config.n_embd)
        for width in widths:
            # BatchNorm rather than GroupNorm: trained on the per-token labels alone, this CNN
            # named the shape under 72% of the object tokens after 600 steps, the GroupNorm one
            # under 31% (measured on the bank, one thread each).
            layers += [
                nn.Conv2d(in_channels, width, 3, stride=2, padding=1),
                nn.BatchNorm2d(width),
                nn.ReLU(),
                nn.Conv2d(width, width, 3, padding=1),
                nn.BatchNorm2d(width),
                nn.ReLU(),
            ]
            in_channels = width
        # A shape is up to 25 pixels wide and a token covers 8: the dilated convolution lets a token
        # inside a big shape see its outline. It stays linear: after a ReLU, tokens of the empty
        # background could be near-zero vectors, whose LayerNorm gradients explode.
        layers.append(nn.Conv2d(in_channels, in_channels, 3, padding=2, dilation=2))
        self.cnn = nn.Sequential(*layers)
        side = torch.linspace(-1.0, 1.0, config.image_size)
        ys, xs = torch.meshgrid(side, side, indexing="ij")
        self.register_buffer("coords", torch.stack([xs, ys])[None], persistent=False)  # (1, 2, H, W)
        self.position = nn.Parameter(torch.zeros(1, config.grid_size**2, config.n_embd))  # (1, N, D)
        self.ln_in = nn.LayerNorm(config.n_embd)
        self.blocks = nn.ModuleList(Block(config, cross_attention=False) for _ in range(config.n_encoder_layer))
        self.ln_out = nn.LayerNorm(config.n_embd)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        B = pixel_values.size(0)
        coords = self.coords.expand(B, -1, -1, -1)  # (B, 2, H, W)
        grid = self.cnn(torch.cat([pixel_values, coords], dim=1))  # (B, D, G, G)
        x = grid.flatten(2).transpose(1, 2)  # (B, N, D)
        x = self.ln_in(x + self.position)  # (B, N, D)
        for block in self.blocks:
            x, _, _ = block(x)  # (B, N, D)
        return self.ln_out(x)  # (B, N, D)


class CaptionDecoder(nn.Module):
    """GPT-2-style caption decoder with cross-attention to the image tokens and a KV cache."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.n_positions = config.n_positions
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)
        self.blocks = nn.ModuleList(Block(config, cross_attention=True) for _ in range(config.n_decoder_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied, as in GPT-2

    def image_keys_values(self, image):
        """Each layer's cross-attention (keys, values) of the image tokens (B, N, D), each
        (B, h, N, d): computed once per caption rather than at every step."""
        return [block.cross_attn.keys_values(image) for block in self.blocks]

    def forward(
        self, input_ids, image, past=None, output_cross_attentions: bool = False, image_keys_values=None,
        attention_mask=None, position_ids=None,
    ):
        """input_ids (B, T), image (B, N, D), past: one (key, value) pair of (B, h, P, d) per layer or None.
        image_keys_values: `image_keys_values(image)`, when computed already (image is then unused).
        attention_mask (B, S) and position_ids (B, T): rows at different positions in one batch
        (`row_position_inputs`); without them every row's positions continue after the cache.

        Returns logits (B, T, V), the per-layer caches of (B, h, S, d), and (when asked) the
        cross-attention weights per layer, each (B, h, T, N).
        """
        T = input_ids.size(1)
        P = 0 if past is None else past[0][0].size(2)
        query_pos = torch.arange(P, P + T, device=input_ids.device)  # (T,) positions continue after the cache
        key_pos = torch.arange(0, P + T, device=input_ids.device)  # (S,)
        causal = key_pos[None, :] <= query_pos[:, None]  # (T, S)
        allowed, positions = row_position_inputs(causal, query_pos, attention_mask, position_ids)
        x = self.wte(input_ids) + self.wpe(positions)  # (B, T, D)
        presents, cross_attentions = [], []
        for i, block in enumerate(self.blocks):
            x, present, weights = block(
                x, allowed, image, None if past is None else past[i],
                image_keys_values=None if image_keys_values is None else image_keys_values[i],
            )
            presents.append(present)
            cross_attentions.append(weights)
        logits = self.lm_head(self.ln_f(x))  # (B, T, V)
        if output_cross_attentions:
            return logits, presents, cross_attentions
        return logits, presents


class FusionScorer(nn.Module):
    """Image-text matching: the logit that the text `[CLS] w1 .. wn [SEP]` is true of the image."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)
        self.blocks = nn.ModuleList(
            Block(config, cross_attention=True, evidence=True) for _ in range(config.n_fusion_layer)
        )
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, 1)
        self.explanation_layers = config.n_fusion_layer  # cross-attention weights (B, h, T, N) per layer
        self.explanation_heads = config.n_head

    def forward(self, input_ids, attention_mask, image, texts_per_image: int = 1):
        """input_ids, attention_mask (B, T) with 1 = token, 0 = padding; image (B, N, D), or
        (B / K, N, D) when each image has K = texts_per_image consecutive texts -> logits (B,)."""
        logits, _ = self.scores_and_states(input_ids, attention_mask, image, texts_per_image)
        return logits

    def scores_and_states(self, input_ids, attention_mask, image, texts_per_image: int = 1):
        """The logits (B,) and the final token states (B, T, D) that they are read from."""
        logits, x, _ = self.scores_states_and_attentions(input_ids, attention_mask, image, texts_per_image)
        return logits, x

    def scores_states_and_attentions(self, input_ids, attention_mask, image, texts_per_image: int = 1):
        """As `scores_and_states`, and each layer's cross-attention weights over the image tokens:
        (B, h, T, N) per layer, or (B / K, h, K * T, N) with K = texts_per_image > 1."""
        T = input_ids.size(1)
        positions = torch.arange(0, T, device=input_ids.device)  # (T,)
        x = self.wte(input_ids) + self.wpe(positions)  # (B, T, D)
        keys_allowed = attention_mask.bool()[:, None, None, :]  # (B, 1, 1, T): padding is never attended to
        cross_attentions = []
        for block in self.blocks:
            x, _, weights = block(x, keys_allowed, image, texts_per_image=texts_per_image)  # (B, T, D), (B, h, T, N)
            cross_attentions.append(weights)
        x = self.ln_f(x)  # (B, T, D)
        return self.head(x[:, 0]).squeeze(-1), x, cross_attentions  # (B,) read from [CLS], (B, T, D), [(B, h, T, N)] * L


class GridProbe(nn.Module):
    """Training-only heads: the colour and shape under each image token (or background); whether an
    object's centre lies under the token, with that object's area and shade (one token per object:
    what counting and comparing need); and, for each noun phrase of a statement ("red square",
    "red shape", "square"), whether the image shows such an object, read from the fusion scorer's
    state of the phrase's head word.

    Learning to ground words in image tokens from caption and matching losses alone is slow (at
    step 800 of a first run matching was still at chance even on "there is a red square"); this
    dense supervision teaches the image tokens what is where and the fusion scorer to look objects
    up, the two halves of every statement. It is not exported."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.colors = nn.Linear(config.n_embd, config.probe_colors)
        self.shapes = nn.Linear(config.n_embd, config.probe_shapes)
        self.attributes = nn.Linear(config.n_embd, config.probe_attributes)
        self.mentions = nn.Linear(config.n_embd, 1)

    def forward(self, image):
        """(B, N, colours + 1), (B, N, shapes + 1), (B, N, 3): centre logit, area, shade."""
        return self.colors(image), self.shapes(image), self.attributes(image)


class CaptionFusionModel(nn.Module):
    """The whole model: one encoder, two heads that read its tokens."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.encoder = ImageEncoder(config)
        self.decoder = CaptionDecoder(config)
        self.fusion = FusionScorer(config)
        self.probe = GridProbe(config)
        self.apply(self._init_weights)
        # GPT-2: scale residual projections by 1/sqrt(depth) so that deep stacks start near identity.
        for name, parameter in self.named_parameters():
            if name.endswith("proj.weight"):
                depth = max(config.n_encoder_layer, config.n_decoder_layer, config.n_fusion_layer)
                nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * depth))
        # Zero: the scorer starts as it would without where-evidence, and weights trained without
        # it load (strict=False) and score the same.
        for module in self.modules():
            if isinstance(module, EvidenceAttention) and module.where is not None:
                nn.init.zeros_(module.where.weight)
                nn.init.zeros_(module.where.bias)
        if config.fusion != "attention":
            # Imported here: the other scorers build on this module. Built after the GPT-2
            # initialisation above, so that they keep PyTorch's defaults, with which the
            # relational one was designed on perfect objects (relational_oracle.py).
            from .fusion_kinds import other_fusion
            self.fusion = other_fusion(config)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        elif isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")  # GELU is close enough to ReLU
            nn.init.zeros_(module.bias)
        elif isinstance(module, ImageEncoder):
            nn.init.normal_(module.position, mean=0.0, std=0.02)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, pixel_values, caption_ids, match_ids, match_mask):
        """One multi-task step's forward pass.

        pixel_values (B, 3, H, W); caption_ids (B, T) teacher-forcing inputs; match_ids, match_mask
        (B * K, T') texts to score, K consecutive rows per image.
        Returns caption logits (B, T, V), match logits (B * K,) and the probes' outputs: colours
        (B, N, 8), shapes (B, N, 9), centre/area/shade (B, N, 3) and mentions (B * K, T').
        """
        if self.config.fusion != "attention":
            raise ValueError("the multi-task step trains the attention scorer; a relational scorer has its own stage (relational_stage.py)")
        image = self.encoder(pixel_values)  # (B, N, D)
        caption_logits, _ = self.decoder(caption_ids, image)  # (B, T, V)
        texts_per_image = match_ids.size(0) // pixel_values.size(0)
        match_logits, states = self.fusion.scores_and_states(match_ids, match_mask, image, texts_per_image)
        mention_logits = self.probe.mentions(states).squeeze(-1)  # (B * K, T')
        return caption_logits, match_logits, (*self.probe(image), mention_logits)

    def match(self, input_ids, attention_mask, image, texts_per_image: int = 1):
        """Matching logits (B,) of texts (B, T) against image tokens (B, N, D), or (B / K, N, D)
        with K = texts_per_image consecutive texts per image."""
        return self.fusion(input_ids, attention_mask, image, texts_per_image)

    @torch.no_grad()
    def generate(self, pixel_values, start_id: int, end_id: int, max_length: int | None = None):
        """Greedy captions with the KV cache. Returns ids (B, L) including the start token; after a
        caption's end token the rest of its row is end tokens."""
        max_length = max_length or self.config.n_positions
        image_keys_values = self.decoder.image_keys_values(self.encoder(pixel_values))  # [(B, h, N, d)] * 2L
        B = pixel_values.size(0)
        ids = torch.full((B, 1), start_id, dtype=torch.long, device=pixel_values.device)  # (B, 1)
        finished = torch.zeros(B, dtype=torch.bool, device=pixel_values.device)  # (B,)
        past, next_input = None, ids
        while ids.size(1) < max_length and not bool(finished.all()):
            logits, past = self.decoder(next_input, None, past, image_keys_values=image_keys_values)  # (B, 1, V)
            next_id = logits[:, -1].argmax(dim=-1)  # (B,)
            next_id = torch.where(finished, torch.full_like(next_id, end_id), next_id)
            finished |= next_id == end_id
            next_input = next_id[:, None]  # (B, 1)
            ids = torch.cat([ids, next_input], dim=1)  # (B, L)
        return ids
