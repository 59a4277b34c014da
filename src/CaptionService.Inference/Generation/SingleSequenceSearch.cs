namespace CaptionService.Inference.Generation;

/// <summary>
/// A search that follows one sequence, choosing one token per step: the shared bookkeeping of
/// greedy decoding and sampling (log-probability under the model, stop at end-of-sequence or at
/// the token limit). Subclasses only say which token to take.
/// </summary>
internal abstract class SingleSequenceSearch : ISearch
{
    private readonly int _maxNewTokens;
    private readonly long _endToken;
    private readonly List<long> _tokens = [];
    private double _logProb;
    private GeneratedSequence? _result;

    protected SingleSequenceSearch(int maxNewTokens, long endToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNewTokens, 1);
        _maxNewTokens = maxNewTokens;
        _endToken = endToken;
    }

    public int RowCount => IsDone ? 0 : 1;

    public bool IsDone => _result is not null;

    public IReadOnlyList<GeneratedSequence> Results => _result is null ? [] : [_result];

    public void Advance(ReadOnlySpan<float> logits, int vocabularySize, List<RowContinuation> next)
    {
        var token = ChooseToken(logits);
        _logProb += logits[token] - LogProbabilities.LogSumExp(logits);
        _tokens.Add(token);
        if (token == _endToken || _tokens.Count >= _maxNewTokens)
        {
            _result = new GeneratedSequence([.. _tokens], _logProb);
            return;
        }

        next.Add(new RowContinuation(0, token));
    }

    /// <summary>The next token, given the step's logits over the vocabulary.</summary>
    protected abstract int ChooseToken(ReadOnlySpan<float> logits);
}
