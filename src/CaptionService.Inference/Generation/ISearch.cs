namespace CaptionService.Inference.Generation;

/// <summary>
/// One request's decoding strategy (greedy, beam, sampling) over the rows it occupies in a shared
/// batch. The driver hands it the logits of its rows each step; it answers with the rows that go on.
/// </summary>
internal interface ISearch
{
    /// <summary>Rows this search occupies in the current step.</summary>
    int RowCount { get; }

    bool IsDone { get; }

    /// <summary>
    /// Consumes the logits of this search's rows (<c>[RowCount, vocabularySize]</c>) and appends the
    /// rows of the next step to <paramref name="next"/>. Appending none finishes the search.
    /// </summary>
    void Advance(ReadOnlySpan<float> logits, int vocabularySize, List<RowContinuation> next);

    /// <summary>The finished sequences, best first.</summary>
    IReadOnlyList<GeneratedSequence> Results { get; }
}
