namespace CaptionService.Inference.Generation;

/// <summary>Row selection over row-major pooled tensors: compaction and beam forks.</summary>
internal static class PooledRows
{
    /// <summary>Copies the chosen rows (each <paramref name="rowLength"/> floats) into a new buffer and releases the old one.</summary>
    public static PooledBuffer<float> Gather(PooledBuffer<float> source, int rowLength, ReadOnlySpan<int> sourceRows)
    {
        var gathered = new PooledBuffer<float>(rowLength * sourceRows.Length);
        var from = source.Span;
        var to = gathered.Span;
        for (var row = 0; row < sourceRows.Length; row++)
        {
            from.Slice(sourceRows[row] * rowLength, rowLength).CopyTo(to.Slice(row * rowLength, rowLength));
        }

        source.Dispose();
        return gathered;
    }
}
