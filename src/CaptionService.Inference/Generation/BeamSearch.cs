namespace CaptionService.Inference.Generation;

/// <summary>
/// Beam search over <c>beams</c> rows, ranking hypotheses by their summed log-probability (no
/// length penalty). It stops as soon as <c>beams</c> hypotheses have ended and no live beam can
/// still beat the worst of them (log-probabilities only fall as tokens are added), or at the
/// token limit, where live beams count as finished.
/// </summary>
internal sealed class BeamSearch : ISearch
{
    private readonly int _beams;
    private readonly int _alternatives;
    private readonly int _maxNewTokens;
    private readonly long _endToken;
    private readonly List<GeneratedSequence> _finished = [];
    private List<Hypothesis> _live = [new Hypothesis([], 0)];
    private bool _done;

    public BeamSearch(int beams, int alternatives, int maxNewTokens, long endToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(beams, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(alternatives, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(alternatives, beams);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNewTokens, 1);
        _beams = beams;
        _alternatives = alternatives;
        _maxNewTokens = maxNewTokens;
        _endToken = endToken;
    }

    public int RowCount => _done ? 0 : _live.Count;

    public bool IsDone => _done;

    public IReadOnlyList<GeneratedSequence> Results =>
        [.. _finished.OrderByDescending(s => s.LogProb).Take(_alternatives)];

    public void Advance(ReadOnlySpan<float> logits, int vocabularySize, List<RowContinuation> next)
    {
        var candidates = TopCandidates(logits, vocabularySize);
        var step = _live[0].Tokens.Length + 1;
        var nextLive = new List<Hypothesis>(_beams);
        var continuations = new List<RowContinuation>(_beams);
        var atLimit = step >= _maxNewTokens;
        var endedAtLimit = 0;
        for (var rank = 0; rank < candidates.Count && nextLive.Count + endedAtLimit < _beams; rank++)
        {
            var candidate = candidates[rank];
            var tokens = Append(_live[candidate.Row].Tokens, candidate.Token);
            if (candidate.Token == _endToken)
            {
                // An ending counts only if it ranks among the best `beams` candidates of this step.
                if (rank < _beams)
                {
                    _finished.Add(new GeneratedSequence(tokens, candidate.Score));
                }

                continue;
            }

            if (atLimit)
            {
                // Out of tokens: the best `beams` unfinished hypotheses end here, cut off.
                _finished.Add(new GeneratedSequence(tokens, candidate.Score));
                endedAtLimit++;
                continue;
            }

            nextLive.Add(new Hypothesis(tokens, candidate.Score));
            continuations.Add(new RowContinuation(candidate.Row, candidate.Token));
        }

        if (nextLive.Count == 0 || CannotImprove(nextLive[0].LogProb))
        {
            _done = true;
            return;
        }

        _live = nextLive;
        next.AddRange(continuations);
    }

    /// <summary>True once `beams` hypotheses have ended and the best live score is no better than the worst of them.</summary>
    private bool CannotImprove(double bestLiveLogProb)
    {
        if (_finished.Count < _beams)
        {
            return false;
        }

        var worstKept = _finished.Select(s => s.LogProb).OrderByDescending(p => p).ElementAt(_beams - 1);
        return bestLiveLogProb <= worstKept;
    }

    /// <summary>The best 2 × beams (row, token) extensions over all live rows, best first; ties by row, then token id.</summary>
    private List<Candidate> TopCandidates(ReadOnlySpan<float> logits, int vocabularySize)
    {
        var wanted = 2 * _beams;
        var candidates = new List<Candidate>(wanted * _live.Count);
        for (var row = 0; row < _live.Count; row++)
        {
            var rowLogits = logits.Slice(row * vocabularySize, vocabularySize);
            var logNormaliser = LogProbabilities.LogSumExp(rowLogits);
            foreach (var token in TopTokens(rowLogits, wanted))
            {
                candidates.Add(new Candidate(row, token, _live[row].LogProb + rowLogits[token] - logNormaliser));
            }
        }

        candidates.Sort((a, b) =>
            a.Score != b.Score ? b.Score.CompareTo(a.Score)
            : a.Row != b.Row ? a.Row.CompareTo(b.Row)
            : a.Token.CompareTo(b.Token));
        return candidates;
    }

    /// <summary>The <paramref name="count"/> highest logits' ids, lowest id first among equals.</summary>
    private static int[] TopTokens(ReadOnlySpan<float> logits, int count)
    {
        count = Math.Min(count, logits.Length);
        var top = new int[count];
        var filled = 0;
        for (var token = 0; token < logits.Length; token++)
        {
            // Insertion into a short sorted list: count is at most 16.
            var position = filled;
            while (position > 0 && logits[top[position - 1]] < logits[token])
            {
                position--;
            }

            if (position >= count)
            {
                continue;
            }

            var end = Math.Min(filled, count - 1);
            for (var i = end; i > position; i--)
            {
                top[i] = top[i - 1];
            }

            top[position] = token;
            filled = Math.Min(filled + 1, count);
        }

        return top;
    }

    private static long[] Append(long[] tokens, long token)
    {
        var extended = new long[tokens.Length + 1];
        tokens.CopyTo(extended, 0);
        extended[^1] = token;
        return extended;
    }

    private sealed record Hypothesis(long[] Tokens, double LogProb);

    private readonly record struct Candidate(int Row, int Token, double Score);
}
