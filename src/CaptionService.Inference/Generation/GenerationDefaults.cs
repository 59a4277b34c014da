using CaptionService.Inference.ModelPackage;

namespace CaptionService.Inference.Generation;

/// <summary>
/// What a request that leaves an option out gets: the package's <c>generation_config.json</c>
/// value, else transformers' own default (num_beams 1, length_penalty 1.0, early_stopping false,
/// no repetition guard, no minimum length, no sampling; when sampling, temperature 1.0, top_k 50
/// and top_p 1.0, where top_k 0 and top_p 1.0 mean no cut).
/// </summary>
internal sealed record GenerationDefaults(
    int? MaxNewTokens = null,
    int MinNewTokens = 0,
    int Beams = 1,
    int Alternatives = 1,
    double LengthPenalty = 1.0,
    EarlyStopping EarlyStopping = EarlyStopping.Heuristic,
    int NoRepeatNgramSize = 0,
    double RepetitionPenalty = 1.0,
    bool Sample = false,
    double Temperature = 1.0,
    int? TopK = 50,
    double? TopP = null)
{
    /// <summary>transformers' defaults, for a package whose generation config sets none of these.</summary>
    public static GenerationDefaults Transformers { get; } = new();

    public static GenerationDefaults From(GenerationConfig config) => new(
        config.MaxNewTokens,
        // min_length counts the decoder's start token (transformers bans the end token while the
        // whole decoder sequence is shorter), so it asks for min_length - 1 new tokens.
        Math.Max(config.MinNewTokens ?? 0, (config.MinLength ?? 0) - 1),
        config.NumBeams ?? 1,
        config.NumReturnSequences ?? 1,
        config.LengthPenalty ?? 1.0,
        config.EarlyStopping ?? EarlyStopping.Heuristic,
        config.NoRepeatNgramSize ?? 0,
        config.RepetitionPenalty ?? 1.0,
        config.DoSample ?? false,
        config.Temperature ?? 1.0,
        config.TopK is 0 ? null : config.TopK ?? 50,
        config.TopP is null or 1.0 ? null : config.TopP);
}
