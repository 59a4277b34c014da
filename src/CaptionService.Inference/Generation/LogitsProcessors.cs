using System.Numerics;

namespace CaptionService.Inference.Generation;

/// <summary>
/// Hugging Face's logits processors that this engine supports, in the order transformers' generate
/// applies them (<c>_get_logits_processor</c>): repetition penalty, no-repeat n-gram, then the
/// minimum length's end-token ban. Each row's history is the decoder's input as transformers sees
/// it, so the decoder start token counts: it can be penalised or start an n-gram like any other.
/// Greedy decoding and sampling apply them to the raw logits, beam search to the log-softmax (as
/// transformers does), so they are generic over the element type.
/// </summary>
internal sealed class LogitsProcessors
{
    private readonly long _startToken;
    private readonly long _endToken;
    private readonly double _repetitionPenalty;
    private readonly int _noRepeatNgramSize;
    private readonly int _minNewTokens;
    private readonly HashSet<long> _seen = [];
    private long[] _history = [];

    public LogitsProcessors(long startToken, long endToken, double repetitionPenalty = 1.0, int noRepeatNgramSize = 0, int minNewTokens = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(repetitionPenalty, 0);
        ArgumentOutOfRangeException.ThrowIfNegative(noRepeatNgramSize);
        ArgumentOutOfRangeException.ThrowIfNegative(minNewTokens);
        _startToken = startToken;
        _endToken = endToken;
        _repetitionPenalty = repetitionPenalty;
        _noRepeatNgramSize = noRepeatNgramSize;
        _minNewTokens = minNewTokens;
    }

    /// <summary>False when every processor is off, so that callers can use the model's scores as they are.</summary>
    public bool IsActive => _repetitionPenalty != 1.0 || _noRepeatNgramSize > 0 || _minNewTokens > 0;

    /// <summary>Rewrites one row of scores over the vocabulary in place.</summary>
    /// <param name="scores">Logits or log-probabilities of the next token.</param>
    /// <param name="generated">The row's tokens so far, after the start token.</param>
    public void Apply<T>(Span<T> scores, ReadOnlySpan<long> generated)
        where T : IFloatingPointIeee754<T>
    {
        var history = History(generated);
        if (_repetitionPenalty != 1.0)
        {
            PenaliseRepetitions(scores, history);
        }

        if (_noRepeatNgramSize > 0)
        {
            BanRepeatedNgrams(scores, history);
        }

        if (generated.Length < _minNewTokens)
        {
            scores[(int)_endToken] = T.NegativeInfinity;
        }
    }

    /// <summary>RepetitionPenaltyLogitsProcessor: once per distinct token seen, a negative score is multiplied by the penalty, another divided.</summary>
    private void PenaliseRepetitions<T>(Span<T> scores, ReadOnlySpan<long> history)
        where T : IFloatingPointIeee754<T>
    {
        var penalty = T.CreateChecked(_repetitionPenalty);
        _seen.Clear();
        foreach (var token in history)
        {
            if (_seen.Add(token))
            {
                var score = scores[(int)token];
                scores[(int)token] = score < T.Zero ? score * penalty : score / penalty;
            }
        }
    }

    /// <summary>
    /// NoRepeatNGramLogitsProcessor: every token that would complete an n-gram already in the
    /// history (its first n - 1 tokens being the history's last n - 1) is banned.
    /// </summary>
    private void BanRepeatedNgrams<T>(Span<T> scores, ReadOnlySpan<long> history)
        where T : IFloatingPointIeee754<T>
    {
        var n = _noRepeatNgramSize;
        if (history.Length + 1 < n)
        {
            return;
        }

        var prefix = history[(history.Length - n + 1)..];
        for (var start = 0; start + n <= history.Length; start++)
        {
            if (history.Slice(start, n - 1).SequenceEqual(prefix))
            {
                scores[(int)history[start + n - 1]] = T.NegativeInfinity;
            }
        }
    }

    private ReadOnlySpan<long> History(ReadOnlySpan<long> generated)
    {
        if (_history.Length < generated.Length + 1)
        {
            _history = new long[Math.Max(2 * _history.Length, generated.Length + 1)];
        }

        _history[0] = _startToken;
        generated.CopyTo(_history.AsSpan(1));
        return _history.AsSpan(0, generated.Length + 1);
    }
}
