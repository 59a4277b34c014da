namespace CaptionService.Inference.Generation;

/// <summary>
/// Validated <see cref="GenerationOptions"/> resolved against the model's limits: which search to
/// run, with which parameters. Creating one is where invalid options are rejected.
/// </summary>
internal sealed record GenerationPlan(
    int Beams,
    int Alternatives,
    int MaxNewTokens,
    long EndToken,
    double? Temperature,
    int? TopK,
    double? TopP,
    int? Seed)
{
    private const int MaxBeams = GenerationOptions.MaxBeams;

    /// <summary>Checks the options and fills in defaults.</summary>
    /// <param name="options">What the client asked for.</param>
    /// <param name="modelMaxNewTokens">The most tokens the model may generate, end-of-sequence included.</param>
    /// <param name="endToken">The end-of-sequence id.</param>
    /// <exception cref="InferenceRejectedException">An option is out of range or the combination makes no sense.</exception>
    public static GenerationPlan Create(GenerationOptions options, int modelMaxNewTokens, long endToken)
    {
        if (options.MaxTokens is { } maxTokens && (maxTokens < 1 || maxTokens > modelMaxNewTokens))
        {
            throw Invalid($"maxTokens must be between 1 and {modelMaxNewTokens}; got {maxTokens}.");
        }

        if (options.Beams is < 1 or > MaxBeams)
        {
            throw Invalid($"beams must be between 1 and {MaxBeams}; got {options.Beams}.");
        }

        if (options.Alternatives < 1 || options.Alternatives > options.Beams)
        {
            throw Invalid($"alternatives must be between 1 and beams ({options.Beams}); got {options.Alternatives}.");
        }

        if (options.Temperature is { } t && (!double.IsFinite(t) || t <= 0 || t > GenerationOptions.MaxTemperature))
        {
            throw Invalid($"temperature must be greater than 0 and at most {GenerationOptions.MaxTemperature}; got {t}.");
        }

        if (options.TopK is { } k && k < 1)
        {
            throw Invalid($"topK must be at least 1; got {k}.");
        }

        if (options.TopP is { } p && (!double.IsFinite(p) || p <= 0 || p > 1))
        {
            throw Invalid($"topP must be greater than 0 and at most 1; got {p}.");
        }

        var sampling = options.Temperature.HasValue || options.TopK.HasValue || options.TopP.HasValue;
        if (sampling && options.Beams > 1)
        {
            throw Invalid("Sampling (temperature, topK, topP) and beam search (beams > 1) cannot be combined; choose one.");
        }

        if (options.Seed.HasValue && !sampling)
        {
            throw Invalid("seed only applies to sampling; also set temperature, topK or topP.");
        }

        return new GenerationPlan(
            options.Beams,
            options.Alternatives,
            options.MaxTokens ?? modelMaxNewTokens,
            endToken,
            sampling ? options.Temperature ?? 1.0 : null,
            options.TopK,
            options.TopP,
            options.Seed);
    }

    public ISearch CreateSearch()
    {
        if (Temperature is { } temperature)
        {
            var random = Seed is { } seed ? new Random(seed) : new Random();
            return new SamplingSearch(MaxNewTokens, EndToken, temperature, TopK, TopP, random);
        }

        return Beams == 1
            ? new GreedySearch(MaxNewTokens, EndToken)
            : new BeamSearch(Beams, Alternatives, MaxNewTokens, EndToken);
    }

    private static InferenceRejectedException Invalid(string message) => new(RejectionReason.InvalidOption, message);
}
