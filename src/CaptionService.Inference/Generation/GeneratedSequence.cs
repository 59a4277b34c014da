namespace CaptionService.Inference.Generation;

/// <summary>
/// Generated token ids (the start token excluded, end-of-sequence included when it was produced)
/// and their summed natural-log probability under the model.
/// </summary>
internal sealed record GeneratedSequence(long[] Tokens, double LogProb)
{
    /// <summary>The geometric mean of the token probabilities: exp(LogProb / token count).</summary>
    public double Confidence => Tokens.Length == 0 ? 0 : Math.Exp(LogProb / Tokens.Length);
}
