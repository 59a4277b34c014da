"""The model's tensor contract: shapes, the KV cache, grouped matching, greedy decoding."""
from __future__ import annotations

import pytest
import torch

from training.model import CaptionFusionModel, ModelConfig

V = 40


@pytest.fixture(scope="module")
def model() -> CaptionFusionModel:
    torch.manual_seed(0)
    config = ModelConfig(vocab_size=V, cnn_channels=(8, 16), n_embd=32, n_head=4, n_encoder_layer=1,
                         n_decoder_layer=2, n_fusion_layer=2, n_positions=16)
    return CaptionFusionModel(config).eval()


def test_default_config_fits_the_parameter_budget():
    assert CaptionFusionModel(ModelConfig(vocab_size=105)).num_parameters() <= 10_000_000


def test_grid_of_a_100_pixel_image_is_13_by_13():
    assert ModelConfig().grid_size == 13


def test_config_round_trips_through_a_dict():
    config = ModelConfig(vocab_size=7, cnn_channels=(4, 8, 16))
    assert ModelConfig.from_dict(config.to_dict()) == config


def test_forward_shapes(model):
    pixels = torch.randn(3, 3, 100, 100)
    captions = torch.randint(0, V, (3, 9))
    texts = torch.randint(0, V, (6, 7))
    image = model.encoder(pixels)
    assert image.shape == (3, 13 * 13, 32)
    caption_logits, match_logits, (colors, shapes, objects, mentions) = model(pixels, captions, texts, torch.ones_like(texts))
    assert mentions.shape == (6, 7)
    assert caption_logits.shape == (3, 9, V)
    assert match_logits.shape == (6,)
    assert colors.shape == (3, 169, 8) and shapes.shape == (3, 169, 9)
    assert objects.shape == (3, 169, 3)


def test_kv_cache_decoding_equals_full_decoding(model):
    image = model.encoder(torch.randn(2, 3, 100, 100))
    ids = torch.randint(0, V, (2, 10))
    with torch.no_grad():
        full, _ = model.decoder(ids, image)
        past, steps = None, []
        for t in range(ids.size(1)):
            logits, past = model.decoder(ids[:, t : t + 1], image, past)
            steps.append(logits)
        # Several tokens at once on top of a cache, as a prompt would be fed.
        head, past_head = model.decoder(ids[:, :4], image)
        tail, _ = model.decoder(ids[:, 4:], image, past_head)
    assert (torch.cat(steps, dim=1) - full).abs().max() <= 1e-4
    assert (torch.cat([head, tail], dim=1) - full).abs().max() <= 1e-4


def test_cache_grows_by_the_tokens_fed(model):
    image = model.encoder(torch.randn(1, 3, 100, 100))
    _, past = model.decoder(torch.zeros(1, 3, dtype=torch.long), image)
    _, past = model.decoder(torch.zeros(1, 2, dtype=torch.long), image, past)
    assert len(past) == 2
    assert past[0][0].shape == (1, 4, 5, 8)


def test_cross_attention_weights_cover_the_image_tokens(model):
    image = model.encoder(torch.randn(2, 3, 100, 100))
    _, _, weights = model.decoder(torch.zeros(2, 3, dtype=torch.long), image, output_cross_attentions=True)
    assert len(weights) == 2
    assert weights[0].shape == (2, 4, 3, 169)
    assert torch.allclose(weights[0].sum(-1), torch.ones(2, 4, 3), atol=1e-5)


def test_grouped_matching_equals_one_image_per_text(model):
    image = model.encoder(torch.randn(2, 3, 100, 100))
    texts = torch.randint(5, V, (6, 5))
    mask = torch.ones_like(texts)
    mask[1, 3:] = 0
    with torch.no_grad():
        grouped = model.match(texts, mask, image, texts_per_image=3)
        separate = model.match(texts, mask, image.repeat_interleave(3, dim=0))
    assert (grouped - separate).abs().max() <= 1e-5


def test_padding_does_not_change_the_score(model):
    image = model.encoder(torch.randn(1, 3, 100, 100))
    text = torch.tensor([[2, 10, 11, 12, 3]])
    padded = torch.cat([text, torch.zeros(1, 4, dtype=torch.long)], dim=1)
    mask = torch.cat([torch.ones(1, 5), torch.zeros(1, 4)], dim=1).long()
    with torch.no_grad():
        plain = model.match(text, torch.ones_like(text), image)
        with_padding = model.match(padded, mask, image)
    assert (plain - with_padding).abs().max() <= 1e-5


def test_greedy_generation_follows_the_argmax_and_stops(model):
    pixels = torch.randn(2, 3, 100, 100)
    ids = model.generate(pixels, start_id=2, end_id=3, max_length=8)
    assert ids.shape[0] == 2 and ids.shape[1] <= 8
    assert (ids[:, 0] == 2).all()
    with torch.no_grad():
        logits, _ = model.decoder(ids[:, :-1], model.encoder(pixels))
    for row, row_logits in zip(ids, logits):
        ended = False
        for t in range(1, ids.size(1)):
            if ended:
                assert row[t] == 3  # rows that ended are filled with the end token
            else:
                assert row[t] == row_logits[t - 1].argmax()
                ended = bool(row[t] == 3)


def test_evidence_reports_the_best_match_and_how_many_tokens_match():
    from training.model import EvidenceAttention

    torch.manual_seed(0)
    attention = EvidenceAttention(ModelConfig(n_embd=8, n_head=1)).eval()
    with torch.no_grad():
        for linear in (attention.query, attention.key):
            linear.weight.copy_(4.0 * torch.eye(8))
            linear.bias.zero_()
        attention.proj.weight.zero_()  # leave only the evidence in the output
        attention.evidence.weight.copy_(torch.eye(8, 2))  # output[0] = best score, output[1] = count
        attention.evidence.bias.zero_()
    query = torch.eye(8)[None, :1]  # (1, 1, 8)
    background = torch.zeros(1, 6, 8)
    def evidence(matching_tokens: int) -> torch.Tensor:
        image = background.clone()
        image[0, :matching_tokens] = query[0, 0]
        with torch.no_grad():
            output, _, _ = attention(query, image)
        return output[0, 0, :2]

    none, one, three = evidence(0), evidence(1), evidence(3)
    assert one[0] > none[0] and three[0] == pytest.approx(one[0])  # the best score: is it there?
    assert three[1] > one[1] > none[1]  # the soft count: how many?


def test_where_evidence_reports_where_a_head_looked():
    from training.model import EvidenceAttention

    attention = EvidenceAttention(ModelConfig(n_embd=8, n_head=1, where_evidence=True)).eval()
    with torch.no_grad():
        for linear in (attention.query, attention.key):
            linear.weight.copy_(8.0 * torch.eye(8))
            linear.bias.zero_()
        for linear in (attention.proj, attention.evidence):
            linear.weight.zero_()
            linear.bias.zero_()  # leave only where-evidence in the output
        attention.where.weight.copy_(torch.eye(8, 2))  # output[0] = x, output[1] = y
        attention.where.bias.zero_()
    query = torch.eye(8)[None, :1]  # (1, 1, 8)
    image = torch.zeros(1, 13 * 13, 8)
    row, column = 2, 10
    image[0, row * 13 + column] = query[0, 0]
    with torch.no_grad():
        output, _, _ = attention(query, image)
    x, y = output[0, 0, :2].tolist()
    assert x == pytest.approx(-1 + 2 * column / 12, abs=0.02)
    assert y == pytest.approx(-1 + 2 * row / 12, abs=0.02)


def test_weights_trained_without_where_evidence_score_the_same_with_it(model):
    with_where = CaptionFusionModel(ModelConfig(**{**model.config.to_dict(), "where_evidence": True})).eval()
    missing, unexpected = with_where.load_state_dict(model.state_dict(), strict=False)
    assert missing and all(".where." in k for k in missing) and not unexpected
    pixels, texts = torch.randn(2, 3, 100, 100), torch.randint(0, V, (4, 7))
    with torch.no_grad():
        before = model.match(texts, torch.ones_like(texts), model.encoder(pixels), texts_per_image=2)
        after = with_where.match(texts, torch.ones_like(texts), with_where.encoder(pixels), texts_per_image=2)
    assert torch.equal(before, after)
