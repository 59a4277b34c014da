namespace CaptionService.Inference.Generation;

/// <summary>
/// Beam search as Hugging Face transformers' <c>_beam_search</c> ranks and stops (read from
/// <c>generation/utils.py</c>, transformers 4.5x–5.x). Each step, per live beam: log-softmax of the
/// logits, then the logits processors, added to the beam's running score; the best 2 × beams
/// (beam, token) candidates over all beams are kept. Of those, a candidate that ends (end token,
/// or the token limit reached) is a finished hypothesis only if it ranks among the best
/// <c>beams</c>, scored <c>running score / generated tokens ^ length penalty</c> (the end token
/// counts, the decoder start token does not); the best <c>beams</c> finished hypotheses are kept.
/// The best <c>beams</c> candidates that do not end go on. <see cref="EarlyStopping"/> says when
/// the search is done; at the token limit it always is.
/// </summary>
/// <remarks>
/// transformers starts with <c>beams</c> copies of the start token, all but the first scored
/// −1e9 so that they never win; one row is the same whenever the first step has at least
/// 2 × beams tokens with a finite score. Scores are summed in double precision (transformers uses
/// float32), and ties between equal scores go to the lower beam, then the lower token id.
/// </remarks>
internal sealed class BeamSearch : ISearch
{
    private readonly int _beams;
    private readonly int _alternatives;
    private readonly int _maxNewTokens;
    private readonly long _endToken;
    private readonly double _lengthPenalty;
    private readonly EarlyStopping _earlyStopping;
    private readonly LogitsProcessors? _processors;
    private readonly List<Hypothesis> _finished = [];
    private List<Hypothesis> _live = [new Hypothesis([], 0, 0)];
    private double[] _rowScores = [];
    private bool _improvable = true;
    private bool _done;

    public BeamSearch(
        int beams,
        int alternatives,
        int maxNewTokens,
        long endToken,
        double lengthPenalty = 1.0,
        EarlyStopping earlyStopping = EarlyStopping.Heuristic,
        LogitsProcessors? processors = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(beams, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(alternatives, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(alternatives, beams);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNewTokens, 1);
        _beams = beams;
        _alternatives = alternatives;
        _maxNewTokens = maxNewTokens;
        _endToken = endToken;
        _lengthPenalty = lengthPenalty;
        _earlyStopping = earlyStopping;
        _processors = processors is { IsActive: true } ? processors : null;
    }

    public int RowCount => _done ? 0 : _live.Count;

    public bool IsDone => _done;

    /// <summary>The best finished hypotheses by transformers' score, best first.</summary>
    public IReadOnlyList<GeneratedSequence> Results =>
        [.. _finished.Take(_alternatives).Select(h => new GeneratedSequence(h.Tokens, h.LogProb, h.Score))];

    public void Advance(ReadOnlySpan<float> logits, int vocabularySize, List<RowContinuation> next)
    {
        var candidates = TopCandidates(logits, vocabularySize);
        var length = _live[0].Tokens.Length + 1;
        var atLimit = length >= _maxNewTokens;
        var beamsWereFull = _finished.Count == _beams;

        var nextLive = new List<Hypothesis>(_beams);
        var continuations = new List<RowContinuation>(_beams);
        var finishedNow = new List<Hypothesis>();
        for (var rank = 0; rank < candidates.Count; rank++)
        {
            var candidate = candidates[rank];
            var ends = atLimit || candidate.Token == _endToken;
            var tokens = Append(_live[candidate.Row].Tokens, candidate.Token);
            if (!ends)
            {
                if (nextLive.Count < _beams)
                {
                    nextLive.Add(new Hypothesis(tokens, candidate.Score, candidate.LogProb));
                    continuations.Add(new RowContinuation(candidate.Row, candidate.Token));
                }

                continue;
            }

            // Only the best `beams` candidates may finish; the rest exist so that enough go on.
            // Nothing is added once the search cannot improve, nor (early stopping true) once full.
            var blocked = !_improvable || (beamsWereFull && _earlyStopping == EarlyStopping.AsSoonAsBeamsFinish);
            if (rank < _beams && !blocked)
            {
                finishedNow.Add(new Hypothesis(tokens, candidate.Score / Math.Pow(length, _lengthPenalty), candidate.LogProb));
            }
        }

        KeepBestFinished(finishedNow);
        if (atLimit || nextLive.Count == 0)
        {
            _done = true;
            return;
        }

        UpdateImprovable(nextLive[0].Score, length);
        var full = _finished.Count == _beams;
        if (!_improvable || (full && _earlyStopping == EarlyStopping.AsSoonAsBeamsFinish))
        {
            _done = true;
            return;
        }

        _live = nextLive;
        next.AddRange(continuations);
    }

    /// <summary>The best `beams` of the kept and the newly finished hypotheses; on equal scores the earlier one stays ahead.</summary>
    private void KeepBestFinished(List<Hypothesis> finishedNow)
    {
        if (finishedNow.Count == 0)
        {
            return;
        }

        var merged = _finished.Concat(finishedNow).ToList();
        var best = merged.Select((h, index) => (h, index))
            .OrderByDescending(x => x.h.Score)
            .ThenBy(x => x.index)
            .Take(_beams)
            .Select(x => x.h)
            .ToList();
        _finished.Clear();
        _finished.AddRange(best);
    }

    /// <summary>
    /// transformers' <c>_check_early_stop_heuristic</c>: once `beams` hypotheses have finished, the
    /// search can still improve only while the best live beam, scored at the best length it might
    /// end with, beats the worst of them. That length is the current one, except for
    /// <c>"never"</c> with a positive length penalty, where it is the token limit (a longer ending
    /// is divided by more, so scores closer to 0). Once false it stays false.
    /// </summary>
    private void UpdateImprovable(double bestLiveScore, int length)
    {
        if (!_improvable || _finished.Count < _beams)
        {
            return;
        }

        var hypotheticalLength = _earlyStopping == EarlyStopping.Never && _lengthPenalty > 0 ? _maxNewTokens : length;
        var bestPossible = bestLiveScore / Math.Pow(hypotheticalLength, _lengthPenalty);
        var worstFinished = _finished.Min(h => h.Score);
        _improvable = bestPossible > worstFinished;
    }

    /// <summary>The best 2 × beams (row, token) extensions over all live rows by processed score, best first; ties by row, then token id.</summary>
    private List<Candidate> TopCandidates(ReadOnlySpan<float> logits, int vocabularySize)
    {
        var wanted = 2 * _beams;
        if (_rowScores.Length != vocabularySize)
        {
            _rowScores = new double[vocabularySize];
        }

        var candidates = new List<Candidate>(wanted * _live.Count);
        for (var row = 0; row < _live.Count; row++)
        {
            var rowLogits = logits.Slice(row * vocabularySize, vocabularySize);
            var logNormaliser = LogProbabilities.LogSumExp(rowLogits);
            for (var token = 0; token < vocabularySize; token++)
            {
                _rowScores[token] = rowLogits[token] - logNormaliser;
            }

            _processors?.Apply<double>(_rowScores, _live[row].Tokens);
            var live = _live[row];
            foreach (var token in TopTokens(_rowScores, wanted))
            {
                candidates.Add(new Candidate(row, token, live.Score + _rowScores[token], live.LogProb + rowLogits[token] - logNormaliser));
            }
        }

        candidates.Sort((a, b) =>
            a.Score != b.Score ? b.Score.CompareTo(a.Score)
            : a.Row != b.Row ? a.Row.CompareTo(b.Row)
            : a.Token.CompareTo(b.Token));
        if (candidates.Count > wanted)
        {
            candidates.RemoveRange(wanted, candidates.Count - wanted);
        }

        return candidates;
    }

    /// <summary>The <paramref name="count"/> highest scores' ids, lowest id first among equals.</summary>
    private static int[] TopTokens(ReadOnlySpan<double> scores, int count)
    {
        count = Math.Min(count, scores.Length);
        var top = new int[count];
        var filled = 0;
        for (var token = 0; token < scores.Length; token++)
        {
            // Insertion into a short sorted list: count is at most 16.
            var position = filled;
            while (position > 0 && scores[top[position - 1]] < scores[token])
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

    /// <summary>A beam or a finished hypothesis: its tokens, its score (running sum of processed log-probabilities, or for a finished one the length-penalised score) and the model's log-probability.</summary>
    private sealed record Hypothesis(long[] Tokens, double Score, double LogProb);

    private readonly record struct Candidate(int Row, int Token, double Score, double LogProb);
}
