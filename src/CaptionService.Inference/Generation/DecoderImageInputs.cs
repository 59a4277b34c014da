namespace CaptionService.Inference.Generation;

/// <summary>
/// What the decoder's steps read about each row's image: the encoder states (one tensor), or
/// each layer's cross-attention keys and values computed from them once (two tensors a layer).
/// Every tensor is <c>[rows, ...RowShape]</c> in one pooled buffer, so selecting rows is the same
/// move for all of them.
/// </summary>
/// <remarks>
/// Each row remembers which image it reads. Rows only ever need another row's content when that
/// row reads a different image, so reordering beams within a request copies nothing, and a
/// request that leaves moves the rows after it up in place. For a real-size package a row holds
/// megabytes (vit-gpt2: 12 layers × 2 × 197 × 768 floats, 14.5 MB), and gathering every row at
/// every beam step would copy hundreds of megabytes per step.
/// </remarks>
internal sealed class DecoderImageInputs : IDisposable
{
    private static long s_nextImage;
    private readonly PooledBuffer<float>[] _buffers;
    private readonly long[][] _rowShapes;
    private readonly int[] _rowLengths;
    private long[] _images;
    private int _capacity;

    public DecoderImageInputs(PooledBuffer<float>[] buffers, long[][] rowShapes, int rows)
    {
        if (buffers.Length != rowShapes.Length)
        {
            throw new ArgumentException("One row shape is needed per buffer.", nameof(rowShapes));
        }

        _buffers = buffers;
        _rowShapes = rowShapes;
        _rowLengths = [.. rowShapes.Select(shape => (int)shape.Aggregate(1L, (product, dimension) => product * dimension))];
        Rows = rows;
        _capacity = rows;
        _images = [.. Enumerable.Range(0, rows).Select(_ => Interlocked.Increment(ref s_nextImage))];
    }

    public int Rows { get; private set; }

    public int Count => _buffers.Length;

    public Memory<float> Memory(int index) => _buffers[index].Memory[..(Rows * _rowLengths[index])];

    /// <summary>The full shape of tensor <paramref name="index"/>, rows first.</summary>
    public long[] Shape(int index) => [Rows, .. _rowShapes[index]];

    /// <summary>Row <c>i</c> becomes old row <c>sourceRows[i]</c> in every tensor.</summary>
    public void SelectRows(ReadOnlySpan<int> sourceRows)
    {
        var images = new long[sourceRows.Length];
        for (var row = 0; row < sourceRows.Length; row++)
        {
            images[row] = _images[sourceRows[row]];
        }

        if (CanMoveInPlace(sourceRows, images))
        {
            for (var row = 0; row < sourceRows.Length; row++)
            {
                if (_images[row] != images[row])
                {
                    CopyRow(sourceRows[row], row);
                }
            }
        }
        else
        {
            for (var i = 0; i < _buffers.Length; i++)
            {
                _buffers[i] = PooledRows.Gather(_buffers[i], _rowLengths[i], sourceRows);
            }

            _capacity = sourceRows.Length;
        }

        _images = images;
        Rows = sourceRows.Length;
    }

    /// <summary>Appends <paramref name="other"/>'s rows (same row shapes) after these, taking ownership of its buffers.</summary>
    public void Append(DecoderImageInputs other)
    {
        using (other)
        {
            if (other._buffers.Length != _buffers.Length || !other._rowShapes.Zip(_rowShapes).All(pair => pair.First.SequenceEqual(pair.Second)))
            {
                throw new ArgumentException("Only rows of the same shapes can join.", nameof(other));
            }

            var rows = Rows + other.Rows;
            if (rows > _capacity)
            {
                // Room to grow, as a list does: requests join one or a few at a time.
                _capacity = Math.Max(rows, 2 * _capacity);
                for (var i = 0; i < _buffers.Length; i++)
                {
                    var grown = new PooledBuffer<float>(_capacity * _rowLengths[i]);
                    Memory(i).Span.CopyTo(grown.Span);
                    _buffers[i].Dispose();
                    _buffers[i] = grown;
                }
            }

            for (var i = 0; i < _buffers.Length; i++)
            {
                other.Memory(i).Span.CopyTo(_buffers[i].Span[(Rows * _rowLengths[i])..]);
            }

            _images = [.. _images.Take(Rows), .. other._images];
            Rows = rows;
        }
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers)
        {
            buffer.Dispose();
        }
    }

    /// <summary>
    /// Whether moving rows front to back within the buffers is safe: every row that needs another
    /// image's content takes it from a row at or after itself, which the move has not written yet.
    /// </summary>
    private bool CanMoveInPlace(ReadOnlySpan<int> sourceRows, long[] images)
    {
        if (sourceRows.Length > Rows)
        {
            return false;
        }

        for (var row = 0; row < sourceRows.Length; row++)
        {
            if (_images[row] != images[row] && sourceRows[row] < row)
            {
                return false;
            }
        }

        return true;
    }

    private void CopyRow(int from, int to)
    {
        for (var i = 0; i < _buffers.Length; i++)
        {
            var length = _rowLengths[i];
            _buffers[i].Span.Slice(from * length, length).CopyTo(_buffers[i].Span.Slice(to * length, length));
        }
    }
}
