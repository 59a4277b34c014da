namespace CaptionService.Inference;

/// <summary>
/// How to decode one caption. Defaults give greedy decoding. Validated by
/// the engine; invalid values are rejected with
/// <see cref="RejectionReason.InvalidOption"/>.
/// </summary>
public sealed record GenerationOptions
{
    /// <summary>The widest beam a request may ask for.</summary>
    public const int MaxBeams = 8;

    /// <summary>The highest sampling temperature a request may ask for.</summary>
    public const double MaxTemperature = 100;

    /// <summary>
    /// Most tokens to generate, counting the end-of-sequence token when it is produced (as
    /// <c>max_new_tokens</c> in transformers); null means the model's maximum, generation_config
    /// <c>max_length</c> − 1, which is what transformers.js generates by default.
    /// </summary>
    public int? MaxTokens { get; init; }

    /// <summary>Beam width, 1 to <see cref="MaxBeams"/>. 1 is greedy (or sampling when <see cref="Temperature"/> is set).</summary>
    public int Beams { get; init; } = 1;

    /// <summary>How many of the best captions to return, 1 to <see cref="Beams"/>.</summary>
    public int Alternatives { get; init; } = 1;

    /// <summary>Sampling temperature (&gt; 0); null means no sampling.</summary>
    public double? Temperature { get; init; }

    /// <summary>Sample only among the K most likely tokens (&gt;= 1).</summary>
    public int? TopK { get; init; }

    /// <summary>Sample only among the smallest token set whose probability reaches P (0 &lt; P &lt;= 1).</summary>
    public double? TopP { get; init; }

    /// <summary>Seed for reproducible sampling.</summary>
    public int? Seed { get; init; }

    /// <summary>Greedy decoding with the model's maximum length.</summary>
    public static GenerationOptions Greedy { get; } = new();
}
