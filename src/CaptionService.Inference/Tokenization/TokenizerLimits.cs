namespace CaptionService.Inference.Tokenization;

/// <summary>The checks every tokenizer applies to a text before and after encoding it.</summary>
internal static class TokenizerLimits
{
    public static void RequireText(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new InferenceRejectedException(RejectionReason.InvalidOption, "A text to score must not be empty.");
        }
    }

    public static void RequireLength(int tokenCount, int maxLength)
    {
        if (tokenCount > maxLength)
        {
            throw new InferenceRejectedException(RejectionReason.TextTooLong,
                $"The text is {tokenCount} tokens long; the model accepts at most {maxLength} tokens, special tokens included.");
        }
    }
}
