namespace CaptionService.Inference.Generation;

/// <summary>The attention mask and position ids of rows left-padded to a shared cache length.</summary>
internal static class CacheRowPositions
{
    /// <summary>
    /// Row r sees its own tokens (the last <c>lengths[r]</c> slots of the past) and the new one, at
    /// position <c>lengths[r]</c>. <paramref name="attentionMask"/> is <c>[rows, pastLength + 1]</c>.
    /// </summary>
    public static void Write(IReadOnlyList<int> lengths, int pastLength, Span<long> attentionMask, Span<long> positionIds)
    {
        var width = pastLength + 1;
        for (var row = 0; row < lengths.Count; row++)
        {
            var padding = pastLength - lengths[row];
            var mask = attentionMask.Slice(row * width, width);
            mask[..padding].Clear();
            mask[padding..].Fill(1);
            positionIds[row] = lengths[row];
        }
    }
}
