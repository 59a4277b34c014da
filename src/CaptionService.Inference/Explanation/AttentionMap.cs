namespace CaptionService.Inference.Explanation;

/// <summary>
/// Where the model looked, over the image's token grid: <see cref="Values"/> holds
/// <see cref="Width"/> × <see cref="Height"/> weights, row by row from the top-left cell, that are
/// non-negative and sum to 1. Cell (x, y) covers the image region x/Width..(x+1)/Width across and
/// y/Height..(y+1)/Height down, the image as the model saw it (resized to its input size).
/// </summary>
public sealed record AttentionMap(int Width, int Height, float[] Values)
{
    /// <summary>The cell with the largest weight (the first, on ties), as (column, row).</summary>
    public (int X, int Y) Peak()
    {
        var best = 0;
        for (var i = 1; i < Values.Length; i++)
        {
            if (Values[i] > Values[best])
            {
                best = i;
            }
        }

        return (best % Width, best / Width);
    }
}

/// <summary>One generated word of an explained caption and its cross-attention map.</summary>
/// <param name="Word">The token as the tokenizer spells it alone (a sub-word for BPE tokenizers).</param>
/// <param name="Position">Its index among the caption's generated tokens, from 0.</param>
/// <param name="Map">Where the decoder looked while it generated the word.</param>
public sealed record WordAttention(string Word, int Position, AttentionMap Map);
