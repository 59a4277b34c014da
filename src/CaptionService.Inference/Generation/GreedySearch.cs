namespace CaptionService.Inference.Generation;

/// <summary>Greedy decoding: the most likely token at each step (lowest id on ties), one row.</summary>
internal sealed class GreedySearch : ISearch
{
    private readonly int _maxNewTokens;
    private readonly long _endToken;
    private readonly List<long> _tokens = [];
    private double _logProb;
    private GeneratedSequence? _result;

    public GreedySearch(int maxNewTokens, long endToken)
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
        var token = LogProbabilities.ArgMax(logits);
        _logProb += logits[token] - LogProbabilities.LogSumExp(logits);
        _tokens.Add(token);
        if (token == _endToken || _tokens.Count >= _maxNewTokens)
        {
            _result = new GeneratedSequence([.. _tokens], _logProb);
            return;
        }

        next.Add(new RowContinuation(0, token));
    }
}
