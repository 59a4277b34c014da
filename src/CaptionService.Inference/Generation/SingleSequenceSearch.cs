namespace CaptionService.Inference.Generation;

/// <summary>
/// A search that follows one sequence, choosing one token per step: the shared bookkeeping of
/// greedy decoding and sampling (log-probability under the model, stop at end-of-sequence or at
/// the token limit). Subclasses only say which token to take. The logits processors, when any is
/// on, rewrite the logits before the choice (as transformers' greedy and sampling loops do), while
/// the reported log-probability stays the model's own.
/// </summary>
internal abstract class SingleSequenceSearch : ISearch
{
    private readonly int _maxNewTokens;
    private readonly long _endToken;
    private readonly LogitsProcessors? _processors;
    private readonly List<long> _tokens = [];
    private float[] _processed = [];
    private double _logProb;
    private GeneratedSequence? _result;

    protected SingleSequenceSearch(int maxNewTokens, long endToken, LogitsProcessors? processors)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNewTokens, 1);
        _maxNewTokens = maxNewTokens;
        _endToken = endToken;
        _processors = processors is { IsActive: true } ? processors : null;
    }

    public int RowCount => IsDone ? 0 : 1;

    public bool IsDone => _result is not null;

    public IReadOnlyList<GeneratedSequence> Results => _result is null ? [] : [_result];

    public void Advance(ReadOnlySpan<float> logits, int vocabularySize, List<RowContinuation> next)
    {
        var token = ChooseToken(Processed(logits));
        _logProb += logits[token] - LogProbabilities.LogSumExp(logits);
        _tokens.Add(token);
        if (token == _endToken || _tokens.Count >= _maxNewTokens)
        {
            _result = new GeneratedSequence([.. _tokens], _logProb);
            return;
        }

        next.Add(new RowContinuation(0, token));
    }

    /// <summary>The logits as the processors leave them (in float, as transformers computes), or the model's own when none is on.</summary>
    private ReadOnlySpan<float> Processed(ReadOnlySpan<float> logits)
    {
        if (_processors is null)
        {
            return logits;
        }

        if (_processed.Length != logits.Length)
        {
            _processed = new float[logits.Length];
        }

        logits.CopyTo(_processed);
        _processors.Apply<float>(_processed, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_tokens));
        return _processed;
    }

    /// <summary>The next token, given the step's (processed) logits over the vocabulary.</summary>
    protected abstract int ChooseToken(ReadOnlySpan<float> logits);
}
