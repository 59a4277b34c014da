namespace CaptionService.Inference.Generation;

/// <summary>
/// Generated token ids (the start token excluded, end-of-sequence included when it was produced)
/// and their summed natural-log probability under the model. Beam search also gives the score it
/// ranked the sequence by, as transformers' <c>sequences_scores</c>: the sum of the processed
/// log-probabilities divided by (token count ^ length penalty).
/// </summary>
internal sealed record GeneratedSequence(long[] Tokens, double LogProb, double? Score = null)
{
    /// <summary>The geometric mean of the token probabilities: exp(LogProb / token count).</summary>
    public double Confidence => Tokens.Length == 0 ? 0 : Math.Exp(LogProb / Tokens.Length);
}
