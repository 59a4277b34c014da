namespace CaptionService.Inference.Generation;

/// <summary>
/// Validated <see cref="GenerationOptions"/> resolved against the model's limits and generation
/// defaults: which search to run, with which parameters. Creating one is where invalid options are
/// rejected.
/// </summary>
internal sealed record GenerationPlan(
    int Beams,
    int Alternatives,
    int MaxNewTokens,
    long StartToken,
    long EndToken,
    double? Temperature,
    int? TopK,
    double? TopP,
    int? Seed,
    int MinNewTokens = 0,
    double LengthPenalty = 1.0,
    EarlyStopping EarlyStopping = EarlyStopping.Heuristic,
    int NoRepeatNgramSize = 0,
    double RepetitionPenalty = 1.0)
{
    private const int MaxBeams = GenerationOptions.MaxBeams;

    /// <summary>Checks the options and fills in the package's defaults, else transformers' own.</summary>
    /// <param name="options">What the client asked for.</param>
    /// <param name="modelMaxNewTokens">The most tokens the model may generate, end-of-sequence included.</param>
    /// <param name="startToken">The decoder start id (the logits processors see it, as transformers' do).</param>
    /// <param name="endToken">The end-of-sequence id.</param>
    /// <param name="defaults">The package's generation_config defaults; null for transformers' defaults.</param>
    /// <exception cref="InferenceRejectedException">An option is out of range or the combination makes no sense.</exception>
    public static GenerationPlan Create(GenerationOptions options, int modelMaxNewTokens, long startToken, long endToken, GenerationDefaults? defaults = null)
    {
        defaults ??= GenerationDefaults.Transformers;
        if (options.MaxTokens is { } maxTokens && (maxTokens < 1 || maxTokens > modelMaxNewTokens))
        {
            throw Invalid($"maxTokens must be between 1 and {modelMaxNewTokens}; got {maxTokens}.");
        }

        var maxNewTokens = options.MaxTokens ?? Math.Min(defaults.MaxNewTokens ?? modelMaxNewTokens, modelMaxNewTokens);
        var minNewTokens = options.MinTokens ?? Math.Min(defaults.MinNewTokens, maxNewTokens);
        if (minNewTokens < 0 || minNewTokens > maxNewTokens)
        {
            throw Invalid($"minTokens must be between 0 and maxTokens ({maxNewTokens}); got {minNewTokens}.");
        }

        var beams = options.Beams ?? defaults.Beams;
        if (beams is < 1 or > MaxBeams)
        {
            throw Invalid($"beams must be between 1 and {MaxBeams}; got {beams}.");
        }

        var alternatives = options.Alternatives ?? Math.Min(defaults.Alternatives, beams);
        if (alternatives < 1 || alternatives > beams)
        {
            throw Invalid($"alternatives must be between 1 and beams ({beams}); got {alternatives}.");
        }

        if (options.LengthPenalty is { } lengthPenalty && (!double.IsFinite(lengthPenalty) || Math.Abs(lengthPenalty) > GenerationOptions.MaxLengthPenalty))
        {
            throw Invalid($"lengthPenalty must be between -{GenerationOptions.MaxLengthPenalty} and {GenerationOptions.MaxLengthPenalty}; got {lengthPenalty}.");
        }

        if ((options.LengthPenalty.HasValue || options.EarlyStopping.HasValue) && beams == 1)
        {
            throw Invalid("lengthPenalty and earlyStopping only apply to beam search; also set beams above 1.");
        }

        var noRepeatNgramSize = options.NoRepeatNgramSize ?? defaults.NoRepeatNgramSize;
        if (noRepeatNgramSize < 0 || noRepeatNgramSize > modelMaxNewTokens)
        {
            throw Invalid($"noRepeatNgramSize must be between 0 and {modelMaxNewTokens}; got {noRepeatNgramSize}.");
        }

        var repetitionPenalty = options.RepetitionPenalty ?? defaults.RepetitionPenalty;
        if (!double.IsFinite(repetitionPenalty) || repetitionPenalty <= 0 || repetitionPenalty > GenerationOptions.MaxRepetitionPenalty)
        {
            throw Invalid($"repetitionPenalty must be greater than 0 and at most {GenerationOptions.MaxRepetitionPenalty}; got {repetitionPenalty}.");
        }

        // The package samples by default (generation_config do_sample) unless the request asks for
        // beams; the request's sampling options then override the package's.
        var requestSamples = options.Temperature.HasValue || options.TopK.HasValue || options.TopP.HasValue;
        var sampling = requestSamples || (defaults.Sample && beams == 1);
        var temperature = options.Temperature ?? (defaults.Sample ? defaults.Temperature : 1.0);
        var topK = options.TopK ?? (defaults.Sample ? defaults.TopK : null);
        var topP = options.TopP ?? (defaults.Sample ? defaults.TopP : null);
        if (sampling && (!double.IsFinite(temperature) || temperature <= 0 || temperature > GenerationOptions.MaxTemperature))
        {
            throw Invalid($"temperature must be greater than 0 and at most {GenerationOptions.MaxTemperature}; got {temperature}.");
        }

        if (sampling && topK is < 1)
        {
            throw Invalid($"topK must be at least 1; got {topK}.");
        }

        if (sampling && topP is { } p && (!double.IsFinite(p) || p <= 0 || p > 1))
        {
            throw Invalid($"topP must be greater than 0 and at most 1; got {p}.");
        }

        if (requestSamples && options.Beams > 1)
        {
            throw Invalid("Sampling (temperature, topK, topP) and beam search (beams > 1) cannot be combined; choose one.");
        }

        if (options.Seed.HasValue && !sampling)
        {
            throw Invalid("seed only applies to sampling; also set temperature, topK or topP.");
        }

        // Sampling decodes one row: a package default of several beams gives way to it.
        if (sampling)
        {
            beams = 1;
            alternatives = 1;
        }

        return new GenerationPlan(
            beams,
            alternatives,
            maxNewTokens,
            startToken,
            endToken,
            sampling ? temperature : null,
            sampling ? topK : null,
            sampling ? topP : null,
            options.Seed,
            minNewTokens,
            options.LengthPenalty ?? defaults.LengthPenalty,
            options.EarlyStopping ?? defaults.EarlyStopping,
            noRepeatNgramSize,
            repetitionPenalty);
    }

    public ISearch CreateSearch()
    {
        // A new instance per search (the processors keep per-step scratch state), and none at all
        // when every processor is off, so that default decoding uses the model's scores untouched.
        var processors = RepetitionPenalty != 1.0 || NoRepeatNgramSize > 0 || MinNewTokens > 0
            ? new LogitsProcessors(StartToken, EndToken, RepetitionPenalty, NoRepeatNgramSize, MinNewTokens)
            : null;
        if (Temperature is { } temperature)
        {
            var random = Seed is { } seed ? new Random(seed) : new Random();
            return new SamplingSearch(MaxNewTokens, EndToken, temperature, TopK, TopP, random, processors);
        }

        return Beams == 1
            ? new GreedySearch(MaxNewTokens, EndToken, processors)
            : new BeamSearch(Beams, Alternatives, MaxNewTokens, EndToken, LengthPenalty, EarlyStopping, processors);
    }

    private static InferenceRejectedException Invalid(string message) => new(RejectionReason.InvalidOption, message);
}
