namespace CaptionService.Inference.Generation;

/// <summary>
/// A decoder driven one token at a time over a batch of rows (hypotheses). The caller owns the
/// loop: it feeds one token per row, reads the next-token logits, then says which rows go on.
/// </summary>
internal interface IDecoderStep : IDisposable
{
    /// <summary>Rows in the batch now.</summary>
    int RowCount { get; }

    int VocabularySize { get; }

    /// <summary>Feeds one token per row and returns the next-token logits, <c>[RowCount, VocabularySize]</c>, valid until the next call.</summary>
    ReadOnlySpan<float> Step(ReadOnlySpan<long> tokens);

    /// <summary>
    /// Rebuilds the batch from existing rows: row <c>i</c> of the new batch continues old row
    /// <c>sourceRows[i]</c>. Dropping finished rows compacts the batch; repeating a row forks a beam.
    /// </summary>
    void SelectRows(ReadOnlySpan<int> sourceRows);
}
