namespace CaptionService.Inference.Tokenization;

/// <summary>A request's texts encoded for scoring, each refusal naming the text it is about.</summary>
internal static class ScoringTexts
{
    /// <exception cref="InferenceRejectedException">A text the tokenizer refuses ("Text 2: ..."), with the tokenizer's reason.</exception>
    public static List<long[]> Encode(ITextTokenizer tokenizer, IReadOnlyList<string> texts)
    {
        var tokenized = new List<long[]>(texts.Count);
        for (var i = 0; i < texts.Count; i++)
        {
            try
            {
                tokenized.Add(tokenizer.EncodeForScoring(texts[i]));
            }
            catch (InferenceRejectedException ex)
            {
                throw new InferenceRejectedException(ex.Reason, $"Text {i + 1}: {ex.Message}");
            }
        }

        return tokenized;
    }
}
