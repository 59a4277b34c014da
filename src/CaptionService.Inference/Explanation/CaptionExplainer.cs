using CaptionService.Inference.Encoding;
using CaptionService.Inference.Generation;
using CaptionService.Inference.Tokenization;

namespace CaptionService.Inference.Explanation;

/// <summary>
/// Explains a generated caption: each word's cross-attention map over the image grid, from one
/// replay of the caption through the decoder's explanation outputs (the decoding runs themselves
/// never fetch them, so requests without <c>explain</c> cost nothing more, and the merged-row and
/// cohort decoding paths stay as they are).
/// </summary>
internal static class CaptionExplainer
{
    /// <summary>
    /// Which replay position explains generated word j: position j is the step whose input was the
    /// token before the word, the step that chose it (the attention that decided the word, as in
    /// "Show, Attend and Tell"); position j + 1 would be the step that read it back.
    /// </summary>
    public const int StepOffset = 0;

    /// <summary>The caption's words (tokens that decode to text; the end-of-sequence token does not), each with its map.</summary>
    public static IReadOnlyList<WordAttention> Explain(DecoderGraph decoder, ITextTokenizer tokenizer, EncoderState image, long startToken, long[] generated)
    {
        var grid = ExplanationRefusals.GridOf(image.SequenceLength);
        using var imageInputs = decoder.PrepareImages([image]);
        long[] replay = [startToken, .. generated];
        var maps = decoder.ReplayCrossAttention(imageInputs, replay);  // [replay length, image tokens]
        var imageTokens = image.SequenceLength;
        var words = new List<WordAttention>(generated.Length);
        for (var j = 0; j < generated.Length; j++)
        {
            var word = tokenizer.Decode([generated[j]]).Trim();
            if (word.Length == 0)
            {
                continue;
            }

            var position = j + StepOffset;
            words.Add(new WordAttention(word, j, grid.Map(maps.AsSpan(position * imageTokens, imageTokens))));
        }

        return words;
    }
}
