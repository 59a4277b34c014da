using CaptionService.Inference;

namespace CaptionService.Api.Contracts;

/// <summary>The caption of an image, with the runners-up when more than one was asked for.</summary>
public sealed class CaptionResponse
{
    /// <summary>The best caption: lower-case words separated by single spaces.</summary>
    /// <example>a red square is to the left of a blue circle .</example>
    public required string Caption { get; init; }

    /// <summary>
    /// Geometric mean of the best caption's token probabilities, exp(logProb / token count), in (0, 1].
    /// Compare it between captions of similar length; it is not a calibrated probability that the caption is true.
    /// </summary>
    /// <example>0.93</example>
    public required double Confidence { get; init; }

    /// <summary>The best captions, best first; the first is <c>caption</c>. As many as <c>alternatives</c> asked for.</summary>
    public required IReadOnlyList<AlternativeCaption> Alternatives { get; init; }

    /// <summary>The model that wrote the caption.</summary>
    public required ModelSummary Model { get; init; }

    /// <summary>Where the request's time went.</summary>
    public required RequestTimings Timings { get; init; }

    internal static CaptionResponse From(CaptionResult result) => new()
    {
        Caption = result.Caption,
        Confidence = result.Confidence,
        Alternatives = [.. result.Alternatives.Select(a => new AlternativeCaption { Caption = a.Caption, LogProb = a.LogProb, Score = a.Score })],
        Model = ModelSummary.From(result.Model),
        Timings = RequestTimings.From(result.Timings),
    };
}
