namespace CaptionService.Inference.Scoring;

/// <summary>
/// How verified captions are reranked: each candidate of the beam search gets its fusion score
/// p (the fusion graph's probability that it is true of the image), and candidates are ranked by
/// <c>ln(p / (1 − p)) + LanguageWeight × logProb / tokens</c>, the fusion evidence as log-odds plus
/// the decoder's mean token log-probability, so that among captions the scorer finds equally true
/// the fluent one wins.
/// </summary>
/// <remarks>
/// Log-odds rather than ln p: near 1, ln p cannot tell 0.99 from 0.9999 (both about 0), though the
/// odds against the caption differ a hundredfold, so among candidates the scorer rated above about
/// 0.98 the language term decided alone, and it preferred a fluent false caption (0.9895) to a true
/// one (0.9998). The weight was calibrated on the development scenes
/// (<c>python3 -m training trust</c>; the model card's trust section gives the figures).
/// </remarks>
public static class CaptionVerification
{
    /// <summary>Weight of the decoder's mean token log-probability against the fusion score's log-odds.</summary>
    public const double LanguageWeight = 5.0;

    /// <summary>
    /// Fusion scores are kept this far from 0 and 1 before the log-odds, so that neither end is
    /// infinite. The float32 value nearest below 1 is 1 − 2^-24 (about 1 − 6e-8), so every score the
    /// graph can give below 1 keeps its own rank; only scores under 5e-8 share the lowest.
    /// </summary>
    private const double ScoreBound = 5e-8;

    /// <summary>The number candidates are ranked by, highest first.</summary>
    public static double RankScore(double fusionScore, double logProb, int tokens)
    {
        var p = Math.Clamp(fusionScore, ScoreBound, 1 - ScoreBound);
        return Math.Log(p / (1 - p)) + LanguageWeight * logProb / Math.Max(tokens, 1);
    }
}
