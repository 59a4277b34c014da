using CaptionService.Inference.Generation;

namespace CaptionService.Inference.Tests.Generation;

/// <summary>
/// A model stuck on one word (as the bundled one was on a plot: "gray" 31 times) cannot make a
/// caption of it once noRepeatNgramSize or repetitionPenalty is set; minTokens holds the end back.
/// </summary>
public sealed class RepetitionGuardTests
{
    private const long Start = 0;
    private const long End = 1;
    private const long Gray = 2;
    private const long Square = 3;
    private const int Vocabulary = 4;
    private const int ModelMaxNewTokens = 12;

    /// <summary>Whatever came before: gray .45, end .40, square .15.</summary>
    private static Dictionary<long, double> StuckOnGray(IReadOnlyList<long> history) =>
        new() { [Gray] = .45, [End] = .40, [Square] = .15 };

    private static GeneratedSequence Caption(GenerationOptions options)
    {
        var search = GenerationPlan.Create(options, ModelMaxNewTokens, Start, End).CreateSearch();
        SearchDriver.Run(new ToyDecoder(1, Vocabulary, StuckOnGray), [search], Start, [CancellationToken.None], _ => { }, _ => { });
        return search.Results[0];
    }

    [Fact]
    public void WithoutAGuardGreedyDecodingRepeatsTheWordUpToTheTokenLimit()
    {
        var caption = Caption(GenerationOptions.Greedy);

        Assert.Equal(Enumerable.Repeat(Gray, ModelMaxNewTokens), caption.Tokens);
    }

    [Fact]
    public void NoRepeatNgramSizeTwoAllowsNoPairTwice()
    {
        var caption = Caption(new GenerationOptions { NoRepeatNgramSize = 2 });

        // start gray, gray gray; then "gray gray" would repeat, so the next best, end.
        Assert.Equal([Gray, Gray, End], caption.Tokens);
        var pairs = caption.Tokens.Prepend(Start).Zip(caption.Tokens).ToList();
        Assert.Equal(pairs.Count, pairs.Distinct().Count());
    }

    [Fact]
    public void NoRepeatNgramSizeOneAllowsNoTokenTwiceEvenInBeamSearch()
    {
        var search = GenerationPlan.Create(new GenerationOptions { NoRepeatNgramSize = 1, Beams = 3, Alternatives = 3 }, ModelMaxNewTokens, Start, End).CreateSearch();
        SearchDriver.Run(new ToyDecoder(1, Vocabulary, StuckOnGray), [search], Start, [CancellationToken.None], _ => { }, _ => { });

        Assert.All(search.Results, r => Assert.Equal(r.Tokens.Length, r.Tokens.Distinct().Count()));
        Assert.DoesNotContain(search.Results, r => r.Tokens.Count(t => t == Gray) > 1);
    }

    [Fact]
    public void RepetitionPenaltyMakesTheRepeatedWordLoseToTheEnd()
    {
        var caption = Caption(new GenerationOptions { RepetitionPenalty = 1.3 });

        // Step 2: gray's logit ln .45 = -0.80 is multiplied by 1.3 to -1.04, below end's ln .40 = -0.92.
        Assert.Equal([Gray, End], caption.Tokens);
        // The reported log-probability is the model's own, not the penalised one.
        Assert.Equal(Math.Log(.45 * .40), caption.LogProb, 4);
    }

    [Fact]
    public void MinTokensHoldsTheEndBackForThatManyTokens()
    {
        var caption = Caption(new GenerationOptions { MinTokens = 4, NoRepeatNgramSize = 2 });

        // gray gray, then "gray gray" is banned and so is end until 4 tokens: square; then "gray"
        // after square is new, and after "square gray" end is allowed again.
        Assert.DoesNotContain(End, caption.Tokens[..4]);
        Assert.Equal(End, caption.Tokens[^1]);
    }
}
