namespace CaptionService.Inference.Scoring;

/// <summary>
/// How verified captions are reranked: each candidate of the beam search gets its fusion score
/// p (the fusion graph's probability that it is true of the image), and candidates are ranked by
/// <c>ln p + LanguageWeight × logProb / tokens</c>, the fusion evidence plus the decoder's mean
/// token log-probability, so that among captions the scorer finds equally true the fluent one wins.
/// </summary>
public static class CaptionVerification
{
    /// <summary>Weight of the decoder's mean token log-probability against the log fusion score.</summary>
    public const double LanguageWeight = 1.0;

    /// <summary>Fusion scores are floored here before the logarithm, so that a zero ranks last, not at minus infinity.</summary>
    private const double ScoreFloor = 1e-9;

    /// <summary>The number candidates are ranked by, highest first.</summary>
    public static double RankScore(double fusionScore, double logProb, int tokens) =>
        Math.Log(Math.Max(fusionScore, ScoreFloor)) + LanguageWeight * logProb / Math.Max(tokens, 1);
}
