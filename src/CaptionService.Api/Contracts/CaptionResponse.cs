using System.Text.Json.Serialization;
using CaptionService.Api.Warnings;
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

    /// <summary>
    /// The best captions, best first; the first is <c>caption</c>. As many as <c>alternatives</c>
    /// asked for; with <c>verify=true</c>, every candidate unless <c>alternatives</c> says fewer,
    /// in the verified order.
    /// </summary>
    public required IReadOnlyList<AlternativeCaption> Alternatives { get; init; }

    /// <summary>
    /// With <c>verify=true</c> only (absent otherwise): the chosen caption's fusion score, the
    /// model's own probability in [0, 1] that the caption is true of the image. Below
    /// <c>CaptionService:Warnings:LowVerificationScore</c> the response warns <c>low-verification</c>.
    /// </summary>
    /// <example>0.98</example>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Verification { get; init; }

    /// <summary>How unlike the model's scenes the image is; absent when the package has no scene statistics.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ImageDistanceDescription? ImageDistance { get; init; }

    /// <summary>
    /// With <c>explain=true</c> only (absent otherwise): each word of the chosen caption, in order,
    /// with the decoder's cross-attention map at the step that chose it (the mean over the heads the
    /// model package names for explanations, or over every head of every layer). It shows where the
    /// model looked, which is not always why it chose the word.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ExplainedWord>? Explanation { get; init; }

    /// <summary>What makes this answer less trustworthy than it looks; empty when nothing was found.</summary>
    public required IReadOnlyList<ResponseWarning> Warnings { get; init; }

    /// <summary>The model that wrote the caption.</summary>
    public required ModelSummary Model { get; init; }

    /// <summary>Where the request's time went.</summary>
    public required RequestTimings Timings { get; init; }

    internal static CaptionResponse From(CaptionResult result, WarningOptions warnings) => new()
    {
        Caption = result.Caption,
        Confidence = result.Confidence,
        Alternatives = [.. result.Alternatives.Select(a => new AlternativeCaption { Caption = a.Caption, LogProb = a.LogProb, Score = a.Score, FusionScore = a.FusionScore })],
        Verification = result.Verification,
        ImageDistance = ImageDistanceDescription.From(result.ImageDistance),
        Explanation = result.Explanation is { } words ? [.. words.Select(ExplainedWord.From)] : null,
        Warnings = ResponseWarnings.ForCaption(result, warnings),
        Model = ModelSummary.From(result.Model),
        Timings = RequestTimings.From(result.Timings),
    };
}
