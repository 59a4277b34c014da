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

    [Theory]
    [InlineData("minTokens", "minTokens must be between 0 and maxTokens (31)")]
    [InlineData("minTokensAboveMaxTokens", "minTokens must be between 0 and maxTokens (5)")]
    [InlineData("lengthPenaltyWithOneBeam", "only apply to beam search")]
    [InlineData("earlyStoppingWithOneBeam", "only apply to beam search")]
    [InlineData("lengthPenaltyTooLarge", "lengthPenalty must be between -10 and 10")]
    [InlineData("lengthPenaltyNaN", "lengthPenalty must be between")]
    [InlineData("noRepeatNgramSize", "noRepeatNgramSize must be between 0 and 31")]
    [InlineData("repetitionPenaltyZero", "repetitionPenalty must be greater than 0 and at most 10")]
    [InlineData("repetitionPenaltyTooLarge", "repetitionPenalty must be greater than 0")]
    public void InvalidHuggingFaceOptionsAreRejectedWithAMessageNamingTheOption(string invalid, string expected)
    {
        var options = invalid switch
        {
            "minTokens" => new GenerationOptions { MinTokens = -1 },
            "minTokensAboveMaxTokens" => new GenerationOptions { MaxTokens = 5, MinTokens = 6 },
            "lengthPenaltyWithOneBeam" => new GenerationOptions { LengthPenalty = 2 },
            "earlyStoppingWithOneBeam" => new GenerationOptions { EarlyStopping = EarlyStopping.Never },
            "lengthPenaltyTooLarge" => new GenerationOptions { Beams = 2, LengthPenalty = 11 },
            "lengthPenaltyNaN" => new GenerationOptions { Beams = 2, LengthPenalty = double.NaN },
            "noRepeatNgramSize" => new GenerationOptions { NoRepeatNgramSize = -1 },
            "repetitionPenaltyZero" => new GenerationOptions { RepetitionPenalty = 0 },
            "repetitionPenaltyTooLarge" => new GenerationOptions { RepetitionPenalty = 10.5 },
            _ => throw new ArgumentOutOfRangeException(nameof(invalid)),
        };

        var ex = Assert.Throws<InferenceRejectedException>(() => Plan(options));

        Assert.Equal(RejectionReason.InvalidOption, ex.Reason);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutAGenerationConfigTheDefaultsAreTransformers()
    {
        var plan = Plan(new GenerationOptions { Beams = 3 });

        Assert.Equal((3, 1, 1.0, EarlyStopping.Heuristic, 0, 0, 1.0), (plan.Beams, plan.Alternatives, plan.LengthPenalty, plan.EarlyStopping, plan.MinNewTokens, plan.NoRepeatNgramSize, plan.RepetitionPenalty));
    }

    [Fact]
    public void ThePackagesDefaultsApplyToOptionsTheRequestLeavesOut()
    {
        var defaults = new GenerationDefaults(
            MaxNewTokens: 20, MinNewTokens: 2, Beams: 4, Alternatives: 2, LengthPenalty: 2, EarlyStopping: EarlyStopping.Never, NoRepeatNgramSize: 3, RepetitionPenalty: 1.2);

        var packageDefaults = GenerationPlan.Create(GenerationOptions.PackageDefaults, 31, 2, 3, defaults);
        var greedy = GenerationPlan.Create(new GenerationOptions { Beams = 1, MaxTokens = 25 }, 31, 2, 3, defaults);
        var sampling = GenerationPlan.Create(new GenerationOptions { Temperature = .7 }, 31, 2, 3, defaults);

        Assert.Equal((20, 2, 4, 2, 2.0, EarlyStopping.Never, 3, 1.2), (packageDefaults.MaxNewTokens, packageDefaults.MinNewTokens, packageDefaults.Beams, packageDefaults.Alternatives, packageDefaults.LengthPenalty, packageDefaults.EarlyStopping, packageDefaults.NoRepeatNgramSize, packageDefaults.RepetitionPenalty));
        Assert.IsType<BeamSearch>(packageDefaults.CreateSearch());
        Assert.Equal((1, 1, 25), (greedy.Beams, greedy.Alternatives, greedy.MaxNewTokens));
        Assert.IsType<GreedySearch>(greedy.CreateSearch());
        Assert.IsType<SamplingSearch>(sampling.CreateSearch());
        Assert.Equal(1, sampling.Beams);
    }

    [Fact]
    public void APackageThatSamplesByDefaultSamplesWithItsSettingsUnlessTheRequestAsksForBeams()
    {
        var defaults = new GenerationDefaults(Sample: true, Temperature: .8, TopK: 50, TopP: .9);

        var packageDefaults = GenerationPlan.Create(GenerationOptions.PackageDefaults, 31, 2, 3, defaults);
        var cooler = GenerationPlan.Create(new GenerationOptions { Temperature = .5, Seed = 7 }, 31, 2, 3, defaults);
        var beams = GenerationPlan.Create(new GenerationOptions { Beams = 3 }, 31, 2, 3, defaults);

        Assert.Equal((.8, 50, .9), (packageDefaults.Temperature, packageDefaults.TopK, packageDefaults.TopP));
        Assert.IsType<SamplingSearch>(packageDefaults.CreateSearch());
        Assert.Equal((.5, 50, .9, 7), (cooler.Temperature, cooler.TopK, cooler.TopP, cooler.Seed));
        Assert.IsType<BeamSearch>(beams.CreateSearch());
        Assert.Null(beams.Temperature);
    }

    [Fact]
    public void APackageThatDoesNotSampleLeavesTopKUncutWhenARequestSamples()
    {
        var plan = Plan(new GenerationOptions { Temperature = .7 });

        Assert.Equal((.7, (int?)null, (double?)null), (plan.Temperature, plan.TopK, plan.TopP));
    }
}
