namespace CaptionService.Inference.Generation;

/// <summary>
/// The caller-owned generation loop over one shared decoder batch: feed one token per row, hand
/// each search its rows' logits, then rebuild the batch from the rows that go on. Finished and
/// cancelled searches leave the batch at once, so they stop costing compute.
/// </summary>
internal static class SearchDriver
{
    /// <summary>Runs all searches to completion. Each search starts with one row (its own encoder state) fed <paramref name="startToken"/>.</summary>
    /// <param name="decoder">The decoder, with one row per search.</param>
    /// <param name="searches">The searches, in the decoder's row order.</param>
    /// <param name="startToken">The decoder start token.</param>
    /// <param name="cancellation">Per search: the client's token. A cancelled search is dropped between steps.</param>
    /// <param name="onFinished">Called once per search, as soon as it finishes, with its index.</param>
    /// <param name="onCancelled">Called once per cancelled search with its index.</param>
    public static void Run(
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

        var active = Enumerable.Range(0, searches.Count).ToList();
        var tokens = Enumerable.Repeat(startToken, searches.Count).ToArray();
        var nextRows = new List<int>();
        var nextTokens = new List<long>();
        var continuations = new List<RowContinuation>();
        var stillActive = new List<int>();
        var rowsOf = new int[searches.Count];
        Array.Fill(rowsOf, 1);

        while (active.Count > 0)
        {
            var logits = decoder.Step(tokens);
            var vocabularySize = decoder.VocabularySize;
            nextRows.Clear();
            nextTokens.Clear();
            stillActive.Clear();
            var offset = 0;
            foreach (var index in active)
            {
                var rows = rowsOf[index];
                if (cancellation[index].IsCancellationRequested)
                {
                    onCancelled(index);
                    offset += rows;
                    continue;
                }

                continuations.Clear();
                searches[index].Advance(logits.Slice(offset * vocabularySize, rows * vocabularySize), vocabularySize, continuations);
                foreach (var continuation in continuations)
                {
                    nextRows.Add(offset + continuation.ParentRow);
                    nextTokens.Add(continuation.Token);
                }

                offset += rows;
                rowsOf[index] = continuations.Count;
                if (continuations.Count == 0)
                {
                    onFinished(index);
                }
                else
                {
                    stillActive.Add(index);
                }
            }

            (active, stillActive) = (stillActive, active);
            if (active.Count == 0)
            {
                break;
            }

            if (!IsIdentity(nextRows, decoder.RowCount))
            {
                decoder.SelectRows(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(nextRows));
            }

            tokens = [.. nextTokens];
        }
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
