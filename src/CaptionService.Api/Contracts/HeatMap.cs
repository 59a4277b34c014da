using CaptionService.Inference.Explanation;

namespace CaptionService.Api.Contracts;

/// <summary>
/// Where the model looked, over its grid of image tokens (13 × 13 for the bundled model): `values`
/// holds `width` × `height` weights row by row from the top-left cell, non-negative and summing to
/// 1. Cell (x, y) covers the image region x/width..(x+1)/width across and y/height..(y+1)/height
/// down, of the image as the model saw it (stretched to its input size).
/// </summary>
public sealed class HeatMap
{
    /// <summary>Grid cells across.</summary>
    /// <example>13</example>
    public required int Width { get; init; }

    /// <summary>Grid cells down.</summary>
    /// <example>13</example>
    public required int Height { get; init; }

    /// <summary>The weights, row by row from the top left, rounded to 5 decimals.</summary>
    public required IReadOnlyList<double> Values { get; init; }

    internal static HeatMap From(AttentionMap map) => new()
    {
        Width = map.Width,
        Height = map.Height,
        Values = [.. map.Values.Select(value => Math.Round((double)value, 5))],
    };
}
