using CaptionService.Inference.Generation;

namespace CaptionService.Inference.Tests.Generation;

public sealed class GenerationPlanTests
{
    private static GenerationPlan Plan(GenerationOptions options) => GenerationPlan.Create(options, modelMaxNewTokens: 31, startToken: 2, endToken: 3);

    [Fact]
    public void DefaultsAreGreedyUpToTheModelMaximum()
    {
        var plan = Plan(GenerationOptions.Greedy);

        Assert.Equal(31, plan.MaxNewTokens);
        Assert.IsType<GreedySearch>(plan.CreateSearch());
    }

    [Fact]
    public void BeamsAboveOneGiveBeamSearchAndSamplingOptionsGiveSampling()
    {
        Assert.IsType<BeamSearch>(Plan(new GenerationOptions { Beams = 4, Alternatives = 2 }).CreateSearch());
        Assert.IsType<SamplingSearch>(Plan(new GenerationOptions { TopK = 5, Seed = 1 }).CreateSearch());
        Assert.Equal(1.0, Plan(new GenerationOptions { TopP = .9 }).Temperature);
    }

    [Theory]
    [InlineData(0, 1, 1, null, null, null, null, "maxTokens")]
    [InlineData(32, 1, 1, null, null, null, null, "maxTokens must be between 1 and 31")]
    [InlineData(null, 0, 1, null, null, null, null, "beams")]
    [InlineData(null, 9, 1, null, null, null, null, "beams must be between 1 and 8")]
    [InlineData(null, 2, 3, null, null, null, null, "alternatives")]
    [InlineData(null, 1, 0, null, null, null, null, "alternatives")]
    [InlineData(null, 1, 1, 0.0, null, null, null, "temperature")]
    [InlineData(null, 1, 1, null, 0, null, null, "topK")]
    [InlineData(null, 1, 1, null, null, 1.5, null, "topP")]
    [InlineData(null, 2, 1, 0.7, null, null, null, "cannot be combined")]
    [InlineData(null, 1, 1, null, null, null, 5, "seed only applies to sampling")]
    public void InvalidOptionsAreRejectedWithAMessageNamingTheOption(
        int? maxTokens, int beams, int alternatives, double? temperature, int? topK, double? topP, int? seed, string expected)
    {
        var options = new GenerationOptions
        {
            MaxTokens = maxTokens, Beams = beams, Alternatives = alternatives, Temperature = temperature, TopK = topK, TopP = topP, Seed = seed,
        };

        var ex = Assert.Throws<InferenceRejectedException>(() => Plan(options));

        Assert.Equal(RejectionReason.InvalidOption, ex.Reason);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
