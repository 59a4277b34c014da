using CaptionService.Inference.Scoring;

namespace CaptionService.Inference.Tests.Scoring;

/// <summary>The rank of verified candidates: the fusion score's log-odds plus the weighted mean token log-probability.</summary>
public sealed class CaptionVerificationTests
{
    [Fact]
    public void AScoreNearerOneOutranksAMoreFluentCandidateTheScorerDoubtsAHundredfoldMore()
    {
        // Two of the 8-beam candidates of development scene existential-colfree/world-11 (package 1.5.0):
        // ln p ranked the false one first (ln 0.9895 - 0.72/12 > ln 0.9998 - 1.63/12; 11 words and the end token).
        var falseCaption = CaptionVerification.RankScore(0.9895, logProb: -0.72, tokens: 12); // "a green cross is to the left of a red semicircle ."
        var trueCaption = CaptionVerification.RankScore(0.9998, logProb: -1.63, tokens: 12); // "a blue triangle is to the left of a red semicircle ."

        Assert.True(trueCaption > falseCaption, $"{trueCaption} <= {falseCaption}");
    }

    [Fact]
    public void AmongCandidatesTheScorerRatesAlikeTheFluentOneWins()
    {
        Assert.True(CaptionVerification.RankScore(0.97, logProb: -0.5, tokens: 11) > CaptionVerification.RankScore(0.97, logProb: -3.0, tokens: 11));
    }

    [Fact]
    public void ScoresOfZeroAndOneRankFinitelyAndInOrder()
    {
        var one = CaptionVerification.RankScore(1.0, logProb: -1, tokens: 4);
        var zero = CaptionVerification.RankScore(0.0, logProb: -1, tokens: 4);

        Assert.True(double.IsFinite(one) && double.IsFinite(zero));
        Assert.True(one > CaptionVerification.RankScore(0.999999, logProb: -1, tokens: 4));
        Assert.True(zero < CaptionVerification.RankScore(0.000001, logProb: -1, tokens: 4));
        Assert.Equal(CaptionVerification.LanguageWeight * -2, CaptionVerification.RankScore(0.5, logProb: -2, tokens: 1), 12); // log-odds of 0.5 are 0
    }
}
