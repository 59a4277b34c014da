using CaptionService.Inference.Encoding;
using CaptionService.Inference.Scoring;

namespace CaptionService.Inference.Explanation;

/// <summary>
/// Explains fusion scores: each text's evidence map, the fusion graph's cross-attention over the
/// image grid, from one run of the explanation outputs for all of a request's texts.
/// </summary>
/// <remarks>
/// A text's map is the mean over its word tokens (the special tokens first and last, <c>[CLS]</c>
/// and <c>[SEP]</c>, and the padding left out) of the mean over layers and heads. It shows where
/// the scorer read the image for the text, not whether what it read there made the text true.
/// </remarks>
internal static class ScoreExplainer
{
    public static AttentionMap[] Explain(FusionGraph fusion, EncoderState image, IReadOnlyList<long[]> texts, long paddingId)
    {
        var grid = ExplanationRefusals.GridOf(image.SequenceLength);
        var rows = texts.Count;
        var length = texts.Max(text => text.Length);
        var ids = new long[rows * length];
        var mask = new long[rows * length];
        Array.Fill(ids, paddingId);
        for (var row = 0; row < rows; row++)
        {
            texts[row].CopyTo(ids, row * length);
            mask.AsSpan(row * length, texts[row].Length).Fill(1);
        }

        var stateLength = image.SequenceLength * image.HiddenSize;
        var states = new float[rows * stateLength];
        for (var row = 0; row < rows; row++)
        {
            image.Values.CopyTo(states.AsSpan(row * stateLength, stateLength));
        }

        var weights = fusion.CrossAttention(rows, length, ids, mask, states, image.SequenceLength, image.HiddenSize);  // [rows, length, image tokens]
        var imageTokens = image.SequenceLength;
        var maps = new AttentionMap[rows];
        for (var row = 0; row < rows; row++)
        {
            var count = texts[row].Length;
            var (first, last) = count > 2 ? (1, count - 2) : (0, count - 1);
            var sum = new float[imageTokens];
            for (var position = first; position <= last; position++)
            {
                var source = weights.AsSpan(((row * length) + position) * imageTokens, imageTokens);
                for (var i = 0; i < imageTokens; i++)
                {
                    sum[i] += source[i];
                }
            }

            maps[row] = grid.Map(sum);
        }

        return maps;
    }
}
