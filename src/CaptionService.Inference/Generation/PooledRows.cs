namespace CaptionService.Inference.Generation;

/// <summary>Row selection over row-major pooled tensors: compaction, beam forks, rows that join.</summary>
internal static class PooledRows
{
    /// <summary>
    /// Copies the chosen rows (each <paramref name="rowLength"/> floats) into a new buffer and
    /// releases the old one; the new buffer has room for <paramref name="capacityRows"/> rows when
    /// that is more than the rows chosen.
    /// </summary>
    public static PooledBuffer<float> Gather(PooledBuffer<float> source, int rowLength, ReadOnlySpan<int> sourceRows, int capacityRows = 0)
    {
        var gathered = new PooledBuffer<float>(rowLength * Math.Max(sourceRows.Length, capacityRows));
        var from = source.Span;
        var to = gathered.Span;
        for (var row = 0; row < sourceRows.Length; row++)
        {
            from.Slice(sourceRows[row] * rowLength, rowLength).CopyTo(to.Slice(row * rowLength, rowLength));
        }

        source.Dispose();
        return gathered;
    }

    /// <summary>
    /// <see cref="Gather"/> over a KV cache <c>[rows, heads, slots, headSize]</c> that keeps only
    /// each head's last <paramref name="keptSlots"/> slots (the leading ones pad every chosen row).
    /// </summary>
    public static PooledBuffer<float> GatherLastSlots(
        PooledBuffer<float> source, int heads, int slots, int headSize, int keptSlots, ReadOnlySpan<int> sourceRows)
    {
        if (keptSlots == slots)
        {
            return Gather(source, heads * slots * headSize, sourceRows);
        }

        var gathered = new PooledBuffer<float>(sourceRows.Length * heads * keptSlots * headSize);
        var from = source.Span;
        var to = gathered.Span;
        var kept = keptSlots * headSize;
        var skipped = (slots - keptSlots) * headSize;
        for (var row = 0; row < sourceRows.Length; row++)
        {
            for (var head = 0; head < heads; head++)
            {
                var start = ((sourceRows[row] * heads) + head) * slots * headSize;
                from.Slice(start + skipped, kept).CopyTo(to.Slice(((row * heads) + head) * kept, kept));
            }
        }

        source.Dispose();
        return gathered;
    }

    /// <summary>Appends <paramref name="rows"/> rows of zeros (each <paramref name="rowLength"/> floats) and releases the old buffer.</summary>
    public static PooledBuffer<float> AppendZeroRows(PooledBuffer<float> source, int rowLength, int rows)
    {
        var grown = new PooledBuffer<float>(source.Length + (rowLength * rows));
        source.Span.CopyTo(grown.Span);
        grown.Span[source.Length..].Clear();
        source.Dispose();
        return grown;
    }
}
