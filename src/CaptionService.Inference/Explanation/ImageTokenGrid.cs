namespace CaptionService.Inference.Explanation;

/// <summary>
/// How a graph's image tokens lie on the image: a square grid, row by row (the bundled model's
/// 13 × 13), or a class token first and then the grid (a ViT's 1 + 14 × 14).
/// </summary>
internal sealed record ImageTokenGrid(int Width, int Height, int Skipped)
{
    /// <summary>The grid of <paramref name="imageTokens"/> tokens, or null when they form none.</summary>
    public static ImageTokenGrid? Of(int imageTokens)
    {
        foreach (var skipped in (int[])[0, 1])
        {
            var side = (int)Math.Round(Math.Sqrt(imageTokens - skipped));
            if (side > 0 && side * side == imageTokens - skipped)
            {
                return new ImageTokenGrid(side, side, skipped);
            }
        }

        return null;
    }

    /// <summary>The grid cells of one row of weights over all image tokens, renormalised to sum to 1.</summary>
    public AttentionMap Map(ReadOnlySpan<float> weights)
    {
        var cells = weights.Slice(Skipped, Width * Height);
        var values = new float[cells.Length];
        var total = 0.0;
        foreach (var value in cells)
        {
            total += value;
        }

        for (var i = 0; i < values.Length; i++)
        {
            values[i] = total > 0 ? (float)(cells[i] / total) : 1f / values.Length;
        }

        return new AttentionMap(Width, Height, values);
    }
}
