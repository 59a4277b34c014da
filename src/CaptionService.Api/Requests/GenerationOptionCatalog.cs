using CaptionService.Inference;
using CaptionService.Inference.Scoring;

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
        "Most new tokens to generate, as `max_new_tokens` in Hugging Face transformers: the end-of-sequence token counts when it is generated, the decoder's start token does not. Default: the model's `max_new_tokens` if its generation config has one, else its `maxTokens` (`GET /model`), which is also the upper bound.",
        "12",
        Minimum: 1);

    public static RequestOption MinTokens { get; } = new(
        "minTokens",
        OptionKind.Integer,
        "Fewest new tokens before the end-of-sequence token may be generated, as `min_new_tokens` in Hugging Face transformers (the end token itself is not counted), 0 to `maxTokens`. Default: the model's generation config, else 0.",
        "4",
        Minimum: 0);

    public static RequestOption Beams { get; } = new(
        "beams",
        OptionKind.Integer,
        $"Beam width, as `num_beams` in Hugging Face transformers, 1 to {GenerationOptions.MaxBeams}. 1 decodes greedily (or samples, with `temperature`, `topK` or `topP`); more runs beam search, ranked and stopped as transformers does. Default: the model's generation config, else 1.",
        "4",
        Minimum: 1,
        Maximum: GenerationOptions.MaxBeams);

    public static RequestOption Alternatives { get; } = new(
        "alternatives",
        OptionKind.Integer,
        "How many of the best captions to return, best first, 1 to `beams`, as `num_return_sequences` in Hugging Face transformers. Default: the model's generation config, else 1.",
        "2",
        Minimum: 1,
        Maximum: GenerationOptions.MaxBeams);

    public static RequestOption LengthPenalty { get; } = new(
        "lengthPenalty",
        OptionKind.Number,
        $"Beam search only: captions are ranked by their summed log-probability divided by (generated tokens ^ lengthPenalty), as `length_penalty` in Hugging Face transformers; above 0 favours longer captions, below 0 shorter ones, 0 ranks by log-probability alone. -{GenerationOptions.MaxLengthPenalty} to {GenerationOptions.MaxLengthPenalty}. Default: the model's generation config, else 1.",
        "1.0",
        Minimum: -GenerationOptions.MaxLengthPenalty,
        Maximum: GenerationOptions.MaxLengthPenalty);

    public static RequestOption EarlyStopping { get; } = new(
        "earlyStopping",
        OptionKind.Choice,
        "Beam search only: when to stop, as `early_stopping` in Hugging Face transformers. `true`: as soon as `beams` captions have ended; `false`: when the best unfinished caption, scored at its current length, cannot beat the worst ended one; `never`: only when no unfinished caption can beat it at any length. Default: the model's generation config, else `false`.",
        "never",
        Choices: ["true", "false", "never"]);

    public static RequestOption NoRepeatNgramSize { get; } = new(
        "noRepeatNgramSize",
        OptionKind.Integer,
        "No sequence of this many tokens may occur twice in a caption, as `no_repeat_ngram_size` in Hugging Face transformers (the decoder's start token counts as the first token); 0 turns it off. Default: the model's generation config, else 0.",
        "2",
        Minimum: 0);

    public static RequestOption RepetitionPenalty { get; } = new(
        "repetitionPenalty",
        OptionKind.Number,
        $"Makes tokens already in the caption less likely, as `repetition_penalty` in Hugging Face transformers: their scores are divided by it when positive, multiplied when negative (greater than 0, at most {GenerationOptions.MaxRepetitionPenalty}); 1 turns it off. Default: the model's generation config, else 1.",
        "1.3",
        Minimum: 0,
        Maximum: GenerationOptions.MaxRepetitionPenalty);

    public static RequestOption Temperature { get; } = new(
        "temperature",
        OptionKind.Number,
        $"Sample instead of decoding greedily, dividing the logits by this temperature (greater than 0, at most {GenerationOptions.MaxTemperature}). When the model's generation config sets `do_sample`, sampling is the default unless `beams` is above 1, with its `temperature`, `top_k` and `top_p` (else 1, 50 and 1) as the defaults of `temperature`, `topK` and `topP`.",
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

    public static RequestOption Verify { get; } = new(
        "verify",
        OptionKind.Boolean,
        $"`true`: verify the caption. Beam search (`beams`, default {GenerationOptions.VerifyBeams}) finds the n-best, the fusion graph scores each of them, and they are reranked by the fusion score's log-odds, ln(fusionScore / (1 − fusionScore)), + {CaptionVerification.LanguageWeight:0.##} × logProb / tokens; every alternative then carries its `fusionScore`, and `verification` is the chosen caption's. All candidates are returned unless `alternatives` says fewer. Needs a model with a fusion graph. Default: `false`.",
        "true");

    public static RequestOption Explain { get; } = new(
        "explain",
        OptionKind.Boolean,
        "`true`: explain the chosen caption. `explanation` lists its words, each with a heat map over the model's grid of image tokens: the decoder's cross-attention at the step that chose the word, averaged over the heads the model package names for explanations (`decoder.cross_attention_heads`; every head of every layer when it names none). `POST /caption/heatmap` draws one word's map over the image as a PNG. Needs a model whose decoder has the cross-attention outputs (`GET /model`: `explainsCaptions`). Default: `false`.",
        "true");

    /// <summary>Every caption option, in the order the documentation lists them.</summary>
    public static IReadOnlyList<RequestOption> All { get; } =
        [MaxTokens, MinTokens, Beams, Alternatives, LengthPenalty, EarlyStopping, NoRepeatNgramSize, RepetitionPenalty, Temperature, TopK, TopP, Seed, Verify, Explain];
}
