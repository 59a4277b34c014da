namespace CaptionService.Api.Contracts;

/// <summary>One statement and the probability that it is true of the image.</summary>
public sealed class ScoredText
{
    /// <summary>The statement, as sent.</summary>
    /// <example>a red square is to the left of a blue circle .</example>
    public required string Text { get; init; }

    /// <summary>Probability in [0, 1] that the statement is true of the image (sigmoid of the fusion logit).</summary>
    /// <example>0.97</example>
    public required double Score { get; init; }

    /// <summary>
    /// The words of the text the model's vocabulary does not know, each once, as written; they were
    /// scored as the unknown token, so the score does not judge them. Empty when every word is known.
    /// </summary>
    /// <example>[]</example>
    public required IReadOnlyList<string> UnknownWords { get; init; }
}
