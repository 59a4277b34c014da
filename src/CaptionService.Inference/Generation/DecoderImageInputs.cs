namespace CaptionService.Inference.Generation;

/// <summary>
/// What the decoder's steps read about each row's image: the encoder states (one tensor), or
/// each layer's cross-attention keys and values computed from them once (two tensors a layer).
/// Every tensor is <c>[rows, ...RowShape]</c> in one pooled buffer, so selecting rows is the same
/// move for all of them.
/// </summary>
/// <remarks>
/// Each row remembers which image it reads. Rows only ever need another row's content when that
/// row reads a different image, so reordering beams within a request copies nothing; a request
/// that leaves moves the rows after it up, and a beam search that forks moves the rows after it
/// down, in place, copying only the rows whose image changes. For a real-size package a row holds
/// megabytes (vit-gpt2: 12 layers × 2 × 197 × 768 floats, 14.5 MB), and gathering every row (as
/// a beam search's first fork did: 350 MB beside 8 greedy captions and another <c>beams=8</c>
/// search) stalls the whole batch for as long, which every request waiting to join waits too.
/// </remarks>
internal sealed class DecoderImageInputs : IDisposable
{
    private static long s_nextImage;
    private readonly PooledBuffer<float>[] _buffers;
    private readonly long[][] _rowShapes;
    private readonly int[] _rowLengths;
    private long[] _images;
    private int _capacity;

    /// <param name="buffers">One per tensor, each holding at least <paramref name="capacity"/> rows.</param>
    /// <param name="rowShapes">Per tensor, the shape of one row.</param>
    /// <param name="rows">The rows the buffers hold, each a different image.</param>
    /// <param name="capacity">The rows the buffers have room for; at least <paramref name="rows"/> (the default).</param>
    public DecoderImageInputs(PooledBuffer<float>[] buffers, long[][] rowShapes, int rows, int capacity = 0)
    {
        if (buffers.Length != rowShapes.Length)
        {
            throw new ArgumentException("One row shape is needed per buffer.", nameof(rowShapes));
        }

        _buffers = buffers;
        _rowShapes = rowShapes;
        _rowLengths = [.. rowShapes.Select(RowLength)];
        Rows = rows;
        _capacity = Math.Max(rows, capacity);
        if (buffers.Zip(_rowLengths).Any(pair => pair.First.Length < _capacity * pair.Second))
        {
            throw new ArgumentException($"Every buffer must hold {_capacity} rows.", nameof(buffers));
        }

        _images = [.. Enumerable.Range(0, rows).Select(_ => Interlocked.Increment(ref s_nextImage))];
    }

    /// <summary>
    /// No rows yet, with room for <paramref name="capacity"/>: a batch that rows join and beams fork
    /// within that many never grows its buffers. Growing one means renting new arrays of hundreds of
    /// megabytes at real size, which the process has not touched yet (page faults) and which count
    /// towards the garbage collector's large-object budget; measured on vit-gpt2 shapes beside a
    /// running batch, such a join took from 0.5 to 1.6 s with 2 or 3 full collections, while every
    /// row of the batch waited.
    /// </summary>
    public static DecoderImageInputs Reserve(IReadOnlyList<long[]> rowShapes, int capacity)
    {
        var buffers = new PooledBuffer<float>[rowShapes.Count];
        for (var i = 0; i < buffers.Length; i++)
        {
            buffers[i] = new PooledBuffer<float>(capacity * RowLength(rowShapes[i]));
        }

        return new DecoderImageInputs(buffers, [.. rowShapes], rows: 0, capacity);
    }

    public int Rows { get; private set; }

    /// <summary>Per tensor, the shape of one row.</summary>
    public IReadOnlyList<long[]> RowShapes => _rowShapes;

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

        if (!TryMoveInPlace(images))
        {
            _capacity = Math.Max(_capacity, sourceRows.Length);
            for (var i = 0; i < _buffers.Length; i++)
            {
                _buffers[i] = PooledRows.Gather(_buffers[i], _rowLengths[i], sourceRows, _capacity);
            }
        }

        _images = images;
        Rows = sourceRows.Length;
    }

    /// <summary>Copies <paramref name="other"/>'s rows (same row shapes) after these; the caller still owns <paramref name="other"/>.</summary>
    public void Append(DecoderImageInputs other)
    {
        if (other._buffers.Length != _buffers.Length || !other._rowShapes.Zip(_rowShapes).All(pair => pair.First.SequenceEqual(pair.Second)))
        {
            throw new ArgumentException("Only rows of the same shapes can join.", nameof(other));
        }

        var rows = Rows + other.Rows;
        EnsureCapacity(rows); // requests join one or a few at a time

        for (var i = 0; i < _buffers.Length; i++)
        {
            other.Memory(i).Span.CopyTo(_buffers[i].Span[(Rows * _rowLengths[i])..]);
        }

        _images = [.. _images.Take(Rows), .. other._images];
        Rows = rows;
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers)
        {
            buffer.Dispose();
        }
    }

    /// <summary>
    /// Gives row <c>i</c> the content of image <c>images[i]</c> within these buffers (grown when
    /// they hold too few rows), provided the images keep their order: each image's new rows are
    /// contiguous and the images' first old rows increase along them, as when searches fork, shrink
    /// or leave. False, with nothing moved, otherwise.
    /// </summary>
    /// <remarks>
    /// Every row of one image holds the same content, so each image's new rows copy from its first
    /// old row, <c>s</c>. The images whose rows move down (new start at or after <c>s</c>) go last
    /// to first, then those that move up go first to last: in that order no image's rows cover a
    /// first old row that a later copy still reads (those of images before lie below it, those of
    /// images after above it), and rows already holding their image are left alone.
    /// </remarks>
    private bool TryMoveInPlace(long[] images)
    {
        var firstRows = new Dictionary<long, int>();
        for (var row = 0; row < Rows; row++)
        {
            firstRows.TryAdd(_images[row], row);
        }

        var groups = new List<(int Start, int End, int Source)>();
        for (var start = 0; start < images.Length;)
        {
            var end = start + 1;
            while (end < images.Length && images[end] == images[start])
            {
                end++;
            }

            var source = firstRows[images[start]];
            if (groups.Count > 0 && groups[^1].Source >= source)
            {
                return false; // reordered, or one image's rows split
            }

            groups.Add((start, end, source));
            start = end;
        }

        EnsureCapacity(images.Length);
        var held = new long[Math.Max(Rows, images.Length)];
        _images.AsSpan(0, Rows).CopyTo(held);
        for (var g = groups.Count - 1; g >= 0; g--)
        {
            if (groups[g].Start >= groups[g].Source)
            {
                Fill(groups[g], images, held);
            }
        }

        foreach (var group in groups.Where(group => group.Start < group.Source))
        {
            Fill(group, images, held);
        }

        return true;
    }

    private void Fill((int Start, int End, int Source) group, long[] images, long[] held)
    {
        for (var row = group.Start; row < group.End; row++)
        {
            if (held[row] != images[row])
            {
                CopyRow(group.Source, row);
                held[row] = images[row];
            }
        }
    }

    /// <summary>Grows the buffers, keeping their rows, to hold at least <paramref name="rows"/>; as a list does, by doubling.</summary>
    private void EnsureCapacity(int rows)
    {
        if (rows <= _capacity)
        {
            return;
        }

        _capacity = Math.Max(rows, 2 * _capacity);
        for (var i = 0; i < _buffers.Length; i++)
        {
            var grown = new PooledBuffer<float>(_capacity * _rowLengths[i]);
            Memory(i).Span.CopyTo(grown.Span);
            _buffers[i].Dispose();
            _buffers[i] = grown;
        }
    }

    private static int RowLength(long[] rowShape) => (int)rowShape.Aggregate(1L, (product, dimension) => product * dimension);

    private void CopyRow(int from, int to)
    {
        for (var i = 0; i < _buffers.Length; i++)
        {
            var length = _rowLengths[i];
            _buffers[i].Span.Slice(from * length, length).CopyTo(_buffers[i].Span.Slice(to * length, length));
        }
    }
}
