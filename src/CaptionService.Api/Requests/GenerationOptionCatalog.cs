using CaptionService.Inference;

namespace CaptionService.Api.Requests;

/// <summary>
/// The caption options of <c>POST /caption</c>: the one place that names them and says what they
/// mean. <see cref="GenerationOptionsParser"/> reads them, the OpenAPI document and the README's
/// table describe them, and the engine (<see cref="GenerationOptions"/>) judges their ranges.
/// </summary>
internal static class GenerationOptionCatalog
{
    public static RequestOption MaxTokens { get; } = new(
        "maxTokens",
        OptionKind.Integer,
        "Most new tokens to generate, as `max_new_tokens` in Hugging Face transformers: the end-of-sequence token counts when it is generated, the decoder's start token does not. Default and upper bound: the model's `maxTokens` (`GET /model`).",
        "12",
        Minimum: 1);

    public static RequestOption Beams { get; } = new(
        "beams",
        OptionKind.Integer,
        $"Beam width, 1 to {GenerationOptions.MaxBeams}. 1 decodes greedily (or samples, with `temperature`, `topK` or `topP`); more runs beam search.",
        "4",
        Minimum: 1,
        Maximum: GenerationOptions.MaxBeams,
        Default: GenerationOptions.Greedy.Beams);

    public static RequestOption Alternatives { get; } = new(
        "alternatives",
        OptionKind.Integer,
        "How many of the best captions to return, best first, 1 to `beams`.",
        "2",
        Minimum: 1,
        Maximum: GenerationOptions.MaxBeams,
        Default: GenerationOptions.Greedy.Alternatives);

    public static RequestOption Temperature { get; } = new(
        "temperature",
        OptionKind.Number,
        $"Sample instead of decoding greedily, dividing the logits by this temperature (greater than 0, at most {GenerationOptions.MaxTemperature}).",
        "0.7",
        Minimum: 0,
        Maximum: GenerationOptions.MaxTemperature);

    public static RequestOption TopK { get; } = new(
        "topK",
        OptionKind.Integer,
        "Sample only among the K most likely tokens (at least 1); turns sampling on.",
        "5",
        Minimum: 1);

    public static RequestOption TopP { get; } = new(
        "topP",
        OptionKind.Number,
        "Sample only among the smallest set of tokens whose probabilities add up to P (greater than 0, at most 1); turns sampling on.",
        "0.9",
        Minimum: 0,
        Maximum: 1);

    public static RequestOption Seed { get; } = new(
        "seed",
        OptionKind.Integer,
        "Seed of the sampler, for reproducible sampling; only with sampling.",
        "42");

    /// <summary>Every caption option, in the order the documentation lists them.</summary>
    public static IReadOnlyList<RequestOption> All { get; } = [MaxTokens, Beams, Alternatives, Temperature, TopK, TopP, Seed];
}
