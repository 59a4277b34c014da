namespace CaptionService.Inference.Generation;

/// <summary>
/// What the decoder's steps read about each row's image: the encoder states (one tensor), or
/// each layer's cross-attention keys and values computed from them once (two tensors a layer).
/// Every tensor is <c>[rows, ...RowShape]</c> in one pooled buffer, so selecting rows is the same
/// gather for all of them.
/// </summary>
internal sealed class DecoderImageInputs : IDisposable
{
    private readonly PooledBuffer<float>[] _buffers;
    private readonly long[][] _rowShapes;

    public DecoderImageInputs(PooledBuffer<float>[] buffers, long[][] rowShapes, int rows)
    {
        if (buffers.Length != rowShapes.Length)
        {
            throw new ArgumentException("One row shape is needed per buffer.", nameof(rowShapes));
        }

        _buffers = buffers;
        _rowShapes = rowShapes;
        Rows = rows;
    }

    public int Rows { get; private set; }

    public int Count => _buffers.Length;

    public Memory<float> Memory(int index) => _buffers[index].Memory;

    /// <summary>The full shape of tensor <paramref name="index"/>, rows first.</summary>
    public long[] Shape(int index) => [Rows, .. _rowShapes[index]];

    /// <summary>Row <c>i</c> becomes old row <c>sourceRows[i]</c> in every tensor.</summary>
    public void SelectRows(ReadOnlySpan<int> sourceRows)
    {
        for (var i = 0; i < _buffers.Length; i++)
        {
            _buffers[i] = PooledRows.Gather(_buffers[i], RowLength(i), sourceRows);
        }

        Rows = sourceRows.Length;
    }

    /// <summary>Appends <paramref name="other"/>'s rows (same row shapes) after these, taking ownership of its buffers.</summary>
    public void Append(DecoderImageInputs other)
    {
        if (other._buffers.Length != _buffers.Length || !other._rowShapes.Zip(_rowShapes).All(pair => pair.First.SequenceEqual(pair.Second)))
        {
            other.Dispose();
            throw new ArgumentException("Only rows of the same shapes can join.", nameof(other));
        }

        for (var i = 0; i < _buffers.Length; i++)
        {
            _buffers[i] = PooledRows.Concatenate(_buffers[i], other._buffers[i]);
        }

        Rows += other.Rows;
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers)
        {
            buffer.Dispose();
        }
    }

    private int RowLength(int index) => (int)_rowShapes[index].Aggregate(1L, (product, dimension) => product * dimension);
}
