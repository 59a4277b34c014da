using System.Text.Json;

namespace CaptionService.Inference.Tests.Parity;

/// <summary>
/// <c>tests/fixtures/parity/&lt;package&gt;/generation_cases.json</c>, written by
/// <c>python -m training.generation_fixture</c>: per option set, the n-best lists that a PyTorch
/// re-implementation of transformers' <c>generate</c> gives for the fixture's images.
/// </summary>
internal sealed record GenerationCases(string Package, double Tolerance, IReadOnlyList<GenerationCase> Cases)
{
    public const string FileName = "generation_cases.json";

    private static readonly JsonSerializerOptions s_options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static GenerationCases Load(string directory) =>
        JsonSerializer.Deserialize<GenerationCases>(File.ReadAllText(Path.Combine(directory, FileName)), s_options)!;
}

/// <summary>One option set: the request options, and per image the expected hypotheses, best first.</summary>
internal sealed record GenerationCase(string Name, IReadOnlyDictionary<string, JsonElement> Options, IReadOnlyList<IReadOnlyList<ExpectedHypothesis>> Images)
{
    /// <summary>The request options as the API's parser would give them.</summary>
    public GenerationOptions ToOptions()
    {
        int? Integer(string name) => Options.TryGetValue(name, out var value) ? value.GetInt32() : null;
        double? Real(string name) => Options.TryGetValue(name, out var value) ? value.GetDouble() : null;
        return new GenerationOptions
        {
            MaxTokens = Integer("maxTokens"),
            MinTokens = Integer("minTokens"),
            Beams = Integer("beams"),
            Alternatives = Integer("alternatives"),
            LengthPenalty = Real("lengthPenalty"),
            EarlyStopping = Options.TryGetValue("earlyStopping", out var rule) ? rule.GetString() switch
            {
                "true" => EarlyStopping.AsSoonAsBeamsFinish,
                "false" => EarlyStopping.Heuristic,
                "never" => EarlyStopping.Never,
                var other => throw new InvalidOperationException($"Unknown earlyStopping '{other}'."),
            } : null,
            NoRepeatNgramSize = Integer("noRepeatNgramSize"),
            RepetitionPenalty = Real("repetitionPenalty"),
        };
    }
}

/// <summary>Generated ids (end token included when generated), transformers' score (beam search only) and the model's log-probability.</summary>
internal sealed record ExpectedHypothesis(long[] Ids, double? Score, double LogProb);
