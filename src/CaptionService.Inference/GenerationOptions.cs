namespace CaptionService.Inference;

/// <summary>
/// How to decode one caption, with Hugging Face <c>generate</c> semantics. An option left null
/// takes the model package's <c>generation_config.json</c> value, else transformers' default.
/// Validated by the engine; invalid values are rejected with <see cref="RejectionReason.InvalidOption"/>.
/// </summary>
public sealed record GenerationOptions
{
    /// <summary>The widest beam a request may ask for.</summary>
    public const int MaxBeams = 8;

    /// <summary>The highest sampling temperature a request may ask for.</summary>
    public const double MaxTemperature = 100;

    /// <summary>The highest repetition penalty a request may ask for.</summary>
    public const double MaxRepetitionPenalty = 10;

    /// <summary>The largest length penalty, in magnitude, a request may ask for.</summary>
    public const double MaxLengthPenalty = 10;

    /// <summary>
    /// Most tokens to generate, counting the end-of-sequence token when it is produced (as
    /// <c>max_new_tokens</c> in transformers); null means generation_config's <c>max_new_tokens</c>
    /// when it has one, else the model's maximum, <c>max_length</c> − 1, which is what
    /// transformers.js generates by default.
    /// </summary>
    public int? MaxTokens { get; init; }

    /// <summary>
    /// Fewest new tokens before the end-of-sequence token may be generated (as <c>min_new_tokens</c>
    /// in transformers: the end token itself is not counted); null means the model's default.
    /// </summary>
    public int? MinTokens { get; init; }

    /// <summary>
    /// Beam width, 1 to <see cref="MaxBeams"/>. 1 is greedy (or sampling when <see cref="Temperature"/>
    /// is set); null means the model's <c>num_beams</c> (1 when its generation config has none).
    /// </summary>
    public int? Beams { get; init; }

    /// <summary>How many of the best captions to return, 1 to the beam width; null means the model's <c>num_return_sequences</c> (1 when absent).</summary>
    public int? Alternatives { get; init; }

    /// <summary>Beam search's length penalty: hypotheses rank by summed log-probability / length ^ this (HF's <c>length_penalty</c>, default 1).</summary>
    public double? LengthPenalty { get; init; }

    /// <summary>When beam search stops (HF's <c>early_stopping</c>, default <see cref="Inference.EarlyStopping.Heuristic"/>).</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>No n-gram of this size may occur twice in a caption (HF's <c>no_repeat_ngram_size</c>); 0 turns it off.</summary>
    public int? NoRepeatNgramSize { get; init; }

    /// <summary>Scores of tokens already in the caption are divided (positive) or multiplied (negative) by this (HF's <c>repetition_penalty</c>); 1 turns it off.</summary>
    public double? RepetitionPenalty { get; init; }

    /// <summary>Sampling temperature (&gt; 0); setting it, <see cref="TopK"/> or <see cref="TopP"/> samples. Null: the package's (when it samples by default), else 1.</summary>
    public double? Temperature { get; init; }

    /// <summary>Sample only among the K most likely tokens (&gt;= 1).</summary>
    public int? TopK { get; init; }

    /// <summary>Sample only among the smallest token set whose probability reaches P (0 &lt; P &lt;= 1).</summary>
    public double? TopP { get; init; }

    /// <summary>Seed for reproducible sampling.</summary>
    public int? Seed { get; init; }

    /// <summary>
    /// Verify the captions: score every generated candidate with the fusion graph and rerank them by
    /// <see cref="Scoring.CaptionVerification"/>'s combination. With <see cref="Beams"/> left out,
    /// <see cref="VerifyBeams"/> beams are searched, and every candidate is returned unless
    /// <see cref="Alternatives"/> says fewer. Needs a package with a fusion graph.
    /// </summary>
    public bool? Verify { get; init; }

    /// <summary>
    /// Explain the chosen caption: each generated word with its cross-attention map over the image
    /// grid (<see cref="Explanation.CaptionExplainer"/>). Needs a package whose caption decoder has
    /// the explanation outputs.
    /// </summary>
    public bool? Explain { get; init; }

    /// <summary>The beam width a verified caption searches when the request names none.</summary>
    public const int VerifyBeams = 4;

    /// <summary>Nothing asked: the model package's generation defaults.</summary>
    public static GenerationOptions PackageDefaults { get; } = new();

    /// <summary>One beam and one caption: greedy decoding, unless the package samples by default (generation_config <c>do_sample</c>), as in transformers.</summary>
    public static GenerationOptions Greedy { get; } = new() { Beams = 1, Alternatives = 1 };
}
