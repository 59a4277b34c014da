namespace CaptionService.Inference.Generation;

/// <summary>
/// Searches that share one decoder batch (one KV cache), advanced one token per <see cref="Step"/>:
/// feed one token per row, hand each search its rows' logits, then rebuild the batch from the rows
/// that go on. Finished and cancelled searches leave the batch at once, so they stop costing
/// compute. Searches that start later either <see cref="Join"/> the cohort (when the decoder can
/// hold rows at different positions) or form cohorts of their own, which the caption stage
/// interleaves step by step.
/// </summary>
internal sealed class DecodingCohort
{
    private readonly IDecoderStep _decoder;
    private readonly List<ISearch> _searches;
    private readonly List<CancellationToken> _cancellation;
    private readonly Action<int> _onFinished;
    private readonly Action<int> _onCancelled;
    private readonly List<int> _rowsOf;
    private readonly long _startToken;
    private readonly List<int> _nextRows = [];
    private readonly List<long> _nextTokens = [];
    private readonly List<RowContinuation> _continuations = [];
    private List<int> _active;
    private List<int> _stillActive = [];
    private long[] _tokens;

    /// <param name="decoder">The decoder, with one row per search.</param>
    /// <param name="searches">The searches, in the decoder's row order.</param>
    /// <param name="startToken">The decoder start token, fed to every row first.</param>
    /// <param name="cancellation">Per search: the client's token. A cancelled search is dropped between steps.</param>
    /// <param name="onFinished">Called once per search, as soon as it finishes, with its index.</param>
    /// <param name="onCancelled">Called once per cancelled search with its index.</param>
    public DecodingCohort(
        IDecoderStep decoder,
        IReadOnlyList<ISearch> searches,
        long startToken,
        IReadOnlyList<CancellationToken> cancellation,
        Action<int> onFinished,
        Action<int> onCancelled)
    {
        if (decoder.RowCount != searches.Count)
        {
            throw new ArgumentException($"The decoder has {decoder.RowCount} rows for {searches.Count} searches.", nameof(decoder));
        }

        _decoder = decoder;
        _searches = [.. searches];
        _cancellation = [.. cancellation];
        _onFinished = onFinished;
        _onCancelled = onCancelled;
        _startToken = startToken;
        _active = [.. Enumerable.Range(0, searches.Count)];
        _tokens = [.. Enumerable.Repeat(startToken, searches.Count)];
        _rowsOf = [.. Enumerable.Repeat(1, searches.Count)];
    }

    /// <summary>True while a search of the cohort is still decoding.</summary>
    public bool IsActive => _active.Count > 0;

    /// <summary>The searches still decoding, by index.</summary>
    public IReadOnlyList<int> ActiveSearches => _active;

    /// <summary>
    /// Adds searches between steps, one row each, fed the start token at the next step. The caller
    /// has appended their rows to the decoder already (after its current rows); they get the
    /// indices that follow the cohort's last one, in order.
    /// </summary>
    public void Join(IReadOnlyList<ISearch> searches, IReadOnlyList<CancellationToken> cancellation)
    {
        if (_decoder.RowCount != _tokens.Length + searches.Count)
        {
            throw new InvalidOperationException($"The decoder has {_decoder.RowCount} rows; {_tokens.Length} + {searches.Count} were expected.");
        }

        for (var i = 0; i < searches.Count; i++)
        {
            _active.Add(_searches.Count);
            _searches.Add(searches[i]);
            _cancellation.Add(cancellation[i]);
            _rowsOf.Add(1);
        }

        _tokens = [.. _tokens, .. Enumerable.Repeat(_startToken, searches.Count)];
    }

    /// <summary>Runs one decoder step for every row and advances every search by one token.</summary>
    public void Step()
    {
        using (var step = EngineTracing.Source.StartActivity("decoder step"))
        {
            step?.SetTag("captionservice.rows", _tokens.Length);
            Advance(_decoder.Step(_tokens));
        }
    }

    private void Advance(ReadOnlySpan<float> logits)
    {
        var vocabularySize = _decoder.VocabularySize;
        _nextRows.Clear();
        _nextTokens.Clear();
        _stillActive.Clear();
        var offset = 0;
        foreach (var index in _active)
        {
            var rows = _rowsOf[index];
            if (_cancellation[index].IsCancellationRequested)
            {
                _onCancelled(index);
                offset += rows;
                continue;
            }

            _continuations.Clear();
            _searches[index].Advance(logits.Slice(offset * vocabularySize, rows * vocabularySize), vocabularySize, _continuations);
            foreach (var continuation in _continuations)
            {
                _nextRows.Add(offset + continuation.ParentRow);
                _nextTokens.Add(continuation.Token);
            }

            offset += rows;
            _rowsOf[index] = _continuations.Count;
            if (_continuations.Count == 0)
            {
                _onFinished(index);
            }
            else
            {
                _stillActive.Add(index);
            }
        }

        // With no search left the batch shrinks to no rows, which searches may still join.
        (_active, _stillActive) = (_stillActive, _active);
        if (!IsIdentity(_nextRows, _decoder.RowCount))
        {
            _decoder.SelectRows(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_nextRows));
        }

        _tokens = [.. _nextTokens];
    }

    private static bool IsIdentity(List<int> rows, int rowCount)
    {
        if (rows.Count != rowCount)
        {
            return false;
        }

        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i] != i)
            {
                return false;
            }
        }

        return true;
    }
}
