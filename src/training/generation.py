"""Hugging Face transformers' `generate`, re-implemented compactly in PyTorch: the reference the
C# engine's searches are checked against (transformers is not installed here).

Followed from transformers' `generation/utils.py` (`_beam_search` and its helpers
`_get_top_k_continuations`, `_get_running_beams_for_next_iteration`, `_update_finished_beams`,
`_check_early_stop_heuristic`, `_beam_search_has_unfinished_sequences`, 4.5x to 5.x) and
`generation/logits_process.py` (RepetitionPenaltyLogitsProcessor, NoRepeatNGramLogitsProcessor,
MinNewTokensLengthLogitsProcessor, applied in `_get_logits_processor`'s order). For one image at a
time, with one end-of-sequence id, in float32 as transformers computes.

What matters for parity, and is easy to get wrong:
- beam search normalises first and processes second (`log_softmax`, then the processors), while
  greedy decoding processes the raw logits;
- the processors see the decoder's whole input, the decoder start token included;
- a finished hypothesis scores sum / (new tokens ^ length_penalty), the end token counted and the
  start token not (`cur_len + 1 - decoder_prompt_len`);
- only candidates among the best `num_beams` of the 2 * num_beams kept may finish.

Letters: K beams, M = 2K candidates, V vocabulary, L tokens so far (the start token included).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn import functional as F

# Logits (R, V) of the next token for R rows of token ids (R, L).
StepFunction = Callable[[torch.Tensor], torch.Tensor]
_NEG = -1.0e9  # transformers' "very large negative" for beams that must not win


@dataclass
class GenerationSettings:
    """The `generate` arguments the engine supports, with transformers' defaults."""

    max_new_tokens: int  # the end token counts when generated
    min_new_tokens: int = 0  # the end token is banned while fewer new tokens exist
    num_beams: int = 1
    num_return_sequences: int = 1
    length_penalty: float = 1.0
    early_stopping: bool | str = False  # True, False or "never"
    no_repeat_ngram_size: int = 0
    repetition_penalty: float = 1.0


@dataclass
class Hypothesis:
    ids: list[int]  # new tokens, the end token included when generated
    score: float | None  # transformers' sequences_scores (beam search only)
    log_prob: float  # the model's own summed log-probability of `ids`


def repetition_penalty(input_ids: torch.Tensor, scores: torch.Tensor, penalty: float) -> torch.Tensor:
    """RepetitionPenaltyLogitsProcessor: scores (R, V) of tokens in input_ids (R, L) are divided by
    the penalty when positive and multiplied when negative."""
    score = torch.gather(scores, 1, input_ids)  # (R, L)
    score = torch.where(score < 0, score * penalty, score / penalty)
    return scores.scatter(1, input_ids, score)


def no_repeat_ngram(input_ids: torch.Tensor, scores: torch.Tensor, n: int) -> torch.Tensor:
    """NoRepeatNGramLogitsProcessor: bans every token that would repeat an n-gram of the row."""
    rows, cur_len = input_ids.shape
    if cur_len + 1 < n:
        return scores
    scores = scores.clone()
    for i, row in enumerate(input_ids.tolist()):
        ngrams: dict[tuple[int, ...], list[int]] = {}
        for ngram in zip(*[row[j:] for j in range(n)]):
            ngrams.setdefault(tuple(ngram[:-1]), []).append(ngram[-1])
        banned = ngrams.get(tuple(row[cur_len + 1 - n : cur_len]), [])
        scores[i, banned] = -float("inf")
    return scores


def min_new_tokens(input_ids: torch.Tensor, scores: torch.Tensor, minimum: int, eos_id: int, prompt_length: int = 1) -> torch.Tensor:
    """MinNewTokensLengthLogitsProcessor: no end token while fewer than `minimum` new tokens exist."""
    if input_ids.shape[-1] - prompt_length < minimum:
        scores = scores.clone()
        scores[:, eos_id] = -float("inf")
    return scores


def process(input_ids: torch.Tensor, scores: torch.Tensor, settings: GenerationSettings, eos_id: int) -> torch.Tensor:
    """The processors in `_get_logits_processor`'s order."""
    if settings.repetition_penalty != 1.0:
        scores = repetition_penalty(input_ids, scores, settings.repetition_penalty)
    if settings.no_repeat_ngram_size > 0:
        scores = no_repeat_ngram(input_ids, scores, settings.no_repeat_ngram_size)
    if settings.min_new_tokens > 0:
        scores = min_new_tokens(input_ids, scores, settings.min_new_tokens, eos_id)
    return scores


@torch.no_grad()
def greedy_search(step: StepFunction, start_id: int, eos_id: int, settings: GenerationSettings) -> Hypothesis:
    """`_sample` without sampling: the processors rewrite the raw logits, then argmax."""
    ids = torch.tensor([[start_id]])  # (1, L)
    log_prob = 0.0
    while True:
        logits = step(ids).float()  # (1, V)
        token = int(process(ids, logits, settings, eos_id).argmax(-1))
        log_prob += float(F.log_softmax(logits, dim=-1)[0, token])
        ids = torch.cat([ids, torch.tensor([[token]])], dim=1)
        if token == eos_id or ids.size(1) - 1 >= settings.max_new_tokens:
            return Hypothesis(ids[0, 1:].tolist(), None, log_prob)


@torch.no_grad()
def beam_search(step: StepFunction, start_id: int, eos_id: int, settings: GenerationSettings) -> list[Hypothesis]:
    """transformers' `_beam_search` for one input (batch dimension dropped), best first."""
    K, lp, early = settings.num_beams, settings.length_penalty, settings.early_stopping
    M = 2 * K  # max(2, 1 + number of end ids) * num_beams
    prompt_len = 1  # the decoder start token
    max_length = prompt_len + settings.max_new_tokens
    top_num_beam_mask = torch.arange(M) < K  # (M,)

    running = torch.full((K, max_length), eos_id, dtype=torch.long)  # (K, max_length), filled with pad = eos
    running[:, 0] = start_id
    running_scores = torch.zeros(K)  # (K,): only the first copy of the start token may win
    running_scores[1:] = _NEG
    running_log_probs = torch.zeros(K)  # (K,) the model's own, for the engine's logProb
    sequences = running.clone()  # (K, max_length) finished hypotheses
    beam_scores = torch.full((K,), _NEG)  # (K,)
    finished_log_probs = torch.zeros(K)  # (K,)
    is_sent_finished = torch.zeros(K, dtype=torch.bool)  # (K,)
    improvable = True  # is_early_stop_heuristic_unsatisfied
    cur_len = prompt_len

    while True:
        logits = step(running[:, :cur_len]).float()  # (K, V)
        V = logits.size(-1)
        log_probs = F.log_softmax(logits, dim=-1)  # (K, V): normalise first ...
        processed = process(running[:, :cur_len], log_probs, settings, eos_id)  # ... then process
        accumulated = (processed + running_scores[:, None]).reshape(-1)  # (K * V)
        model_accumulated = (log_probs + running_log_probs[:, None]).reshape(-1)  # (K * V)

        # _get_top_k_continuations
        topk_scores, topk_indices = torch.topk(accumulated, k=M)  # (M,)
        topk_beams = topk_indices // V
        topk_sequences = running[topk_beams].clone()  # (M, max_length)
        topk_sequences[:, cur_len] = topk_indices % V
        topk_log_probs = model_accumulated[topk_indices]  # (M,)
        # stopping criteria: the end token, or max_length reached
        hits = (topk_sequences[:, cur_len] == eos_id) | (cur_len + 1 >= max_length)  # (M,)

        # _get_running_beams_for_next_iteration
        running_candidates = topk_scores + hits.float() * _NEG
        next_indices = torch.topk(running_candidates, k=K)[1]  # (K,)
        running = topk_sequences[next_indices]
        running_scores = running_candidates[next_indices]
        running_log_probs = topk_log_probs[next_indices]

        # _update_finished_beams
        just_finished = hits & top_num_beam_mask  # (M,)
        finished_scores = topk_scores / ((cur_len + 1 - prompt_len) ** lp)
        beams_are_full = bool(is_sent_finished.all()) and early is True
        finished_scores = finished_scores + float(beams_are_full) * _NEG
        finished_scores = finished_scores + float(not improvable) * _NEG
        finished_scores = finished_scores + (~just_finished).float() * _NEG
        merged_scores = torch.cat([beam_scores, finished_scores])  # (K + M,)
        keep = torch.topk(merged_scores, k=K)[1]  # (K,)
        sequences = torch.cat([sequences, topk_sequences])[keep]
        beam_scores = merged_scores[keep]
        finished_log_probs = torch.cat([finished_log_probs, topk_log_probs])[keep]
        is_sent_finished = torch.cat([is_sent_finished, just_finished])[keep]

        cur_len += 1
        # _check_early_stop_heuristic
        if early == "never" and lp > 0.0:
            best_hypothetical_length = max_length - prompt_len
        else:
            best_hypothetical_length = cur_len - prompt_len
        best_possible = running_scores[0] / (best_hypothetical_length**lp)
        worst_finished = torch.where(is_sent_finished, beam_scores.min(), torch.tensor(_NEG))  # (K,)
        improvable = improvable and bool((best_possible > worst_finished).any())

        # _beam_search_has_unfinished_sequences
        exists_open_beam = not (bool(is_sent_finished.all()) and early is True)
        valid_continuations = not bool(hits.all())
        if not (improvable and exists_open_beam and valid_continuations):
            break

    results = []
    for i in range(settings.num_return_sequences):
        row = sequences[i, 1:].tolist()
        ids = row[: row.index(eos_id) + 1] if eos_id in row else row
        results.append(Hypothesis(ids, float(beam_scores[i]), float(finished_log_probs[i])))
    return results


def generate(step: StepFunction, start_id: int, eos_id: int, settings: GenerationSettings) -> list[Hypothesis]:
    """Greedy decoding for one beam, beam search for more."""
    if settings.num_beams == 1:
        return [greedy_search(step, start_id, eos_id, settings)]
    return beam_search(step, start_id, eos_id, settings)
