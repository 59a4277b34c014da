using CaptionService.Inference.Generation;
using CaptionService.Inference.ModelPackage;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>generation_config.json's generate arguments become the defaults of requests, read as transformers writes them.</summary>
public sealed class GenerationConfigDefaultsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("generation-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private GenerationConfig Read(string json)
    {
        File.WriteAllText(Path.Combine(_directory, "generation_config.json"), json);
        return PackageJson.Read<GenerationConfig>(_directory, "generation_config.json");
    }

    [Theory]
    [InlineData("true", EarlyStopping.AsSoonAsBeamsFinish)]
    [InlineData("false", EarlyStopping.Heuristic)]
    [InlineData("\"never\"", EarlyStopping.Never)]
    public void EarlyStoppingIsReadAsTransformersWritesIt(string value, EarlyStopping expected)
    {
        var config = Read($$"""{"decoder_start_token_id": 2, "eos_token_id": 3, "max_length": 16, "num_beams": 4, "early_stopping": {{value}}}""");

        Assert.Equal(expected, GenerationDefaults.From(config).EarlyStopping);
    }

    [Fact]
    public void AnEarlyStoppingWordOtherThanNeverStopsStartUp() =>
        Assert.Throws<ModelPackageException>(() => Read("""{"decoder_start_token_id": 2, "eos_token_id": 3, "max_length": 16, "early_stopping": "sometimes"}"""));

    [Fact]
    public void GenerateArgumentsBecomeDefaultsAndMinLengthCountsTheStartToken()
    {
        var config = Read("""
            {"decoder_start_token_id": 2, "eos_token_id": 3, "max_length": 16, "max_new_tokens": 12, "min_length": 5,
             "num_beams": 4, "num_return_sequences": 2, "length_penalty": 2.0, "no_repeat_ngram_size": 3, "repetition_penalty": 1.2}
            """);

        Assert.Equal(
            new GenerationDefaults(MaxNewTokens: 12, MinNewTokens: 4, Beams: 4, Alternatives: 2, LengthPenalty: 2.0, EarlyStopping: EarlyStopping.Heuristic, NoRepeatNgramSize: 3, RepetitionPenalty: 1.2),
            GenerationDefaults.From(config));
    }

    [Fact]
    public void AConfigWithOnlyTokenIdsGetsTransformersDefaults() =>
        Assert.Equal(
            GenerationDefaults.Transformers,
            GenerationDefaults.From(Read("""{"decoder_start_token_id": 2, "eos_token_id": 3, "max_length": 16}""")));

    [Fact]
    public void SamplingArgumentsAreReadWithTransformersDefaultsAndZeroTopKMeansNoCut()
    {
        var sampled = GenerationDefaults.From(Read("""{"decoder_start_token_id": 2, "eos_token_id": 3, "max_length": 16, "do_sample": true, "temperature": 0.7}"""));
        var uncut = GenerationDefaults.From(Read("""{"decoder_start_token_id": 2, "eos_token_id": 3, "max_length": 16, "do_sample": true, "top_k": 0, "top_p": 0.9}"""));

        Assert.Equal((true, .7, (int?)50, (double?)null), (sampled.Sample, sampled.Temperature, sampled.TopK, sampled.TopP));
        Assert.Equal((1.0, (int?)null, (double?)0.9), (uncut.Temperature, uncut.TopK, uncut.TopP));
    }
}
