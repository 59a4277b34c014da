namespace CaptionService.Inference.Generation;

/// <summary>
/// How many tokens each row of a decoder batch holds, in a cache whose rows are left-padded to a
/// shared length (<see cref="PastLength"/>, the longest row's): the bookkeeping of both decoder
/// steps, whichever memory their cache lives in.
/// </summary>
internal sealed class CacheRowPositions
{
    private List<int> _lengths;

    /// <summary><paramref name="rows"/> rows with no tokens yet.</summary>
    public CacheRowPositions(int rows) => _lengths = [.. Enumerable.Repeat(0, rows)];

    public int RowCount => _lengths.Count;

    /// <summary>Slots in the cache: the longest row's tokens.</summary>
    public int PastLength { get; private set; }

    /// <summary>
    /// Row r sees its own tokens (the last <c>lengths[r]</c> slots of the past) and the new one, at
    /// position <c>lengths[r]</c>. <paramref name="attentionMask"/> is <c>[rows, PastLength + 1]</c>.
    /// </summary>
    public void Write(Span<long> attentionMask, Span<long> positionIds)
    {
        var width = PastLength + 1;
        for (var row = 0; row < _lengths.Count; row++)
        {
            var padding = PastLength - _lengths[row];
            var mask = attentionMask.Slice(row * width, width);
            mask[..padding].Clear();
            mask[padding..].Fill(1);
            positionIds[row] = _lengths[row];
        }
    }

    /// <summary>Every row took one more token.</summary>
    public void Advance()
    {
        PastLength++;
        for (var row = 0; row < _lengths.Count; row++)
        {
            _lengths[row]++;
        }
    }

    /// <summary>
    /// Row <c>i</c> becomes old row <c>sourceRows[i]</c>. Returns the slots the cache keeps, its last
    /// ones: the leading slots that only pad every remaining row are dropped with the gather.
    /// </summary>
    public int Select(ReadOnlySpan<int> sourceRows)
    {
        var lengths = new List<int>(sourceRows.Length);
        foreach (var row in sourceRows)
        {
            lengths.Add(_lengths[row]);
        }

        _lengths = lengths;
        PastLength = lengths.Count == 0 ? 0 : lengths.Max();
        return PastLength;
    }

    /// <summary>Appends <paramref name="rows"/> rows with no tokens yet (all padding, masked).</summary>
    public void Add(int rows) => _lengths.AddRange(Enumerable.Repeat(0, rows));
}
