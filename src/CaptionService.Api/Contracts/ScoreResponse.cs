using System.Text.Json.Serialization;
using CaptionService.Api.Warnings;
using CaptionService.Inference;

namespace CaptionService.Api.Contracts;

/// <summary>How likely each statement is true of the image, in the order the texts were sent.</summary>
public sealed class ScoreResponse
{
    /// <summary>One entry per <c>text</c> field, in request order.</summary>
    public required IReadOnlyList<ScoredText> Scores { get; init; }

    /// <summary>How unlike the model's scenes the image is; absent when the package has no scene statistics.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ImageDistanceDescription? ImageDistance { get; init; }

    /// <summary>What makes these scores less trustworthy than they look (unknown words, an unlike image); empty when nothing was found.</summary>
    public required IReadOnlyList<ResponseWarning> Warnings { get; init; }

    /// <summary>The model that scored the texts.</summary>
    public required ModelSummary Model { get; init; }

    /// <summary>Where the request's time went.</summary>
    public required RequestTimings Timings { get; init; }

    internal static ScoreResponse From(ScoreResult result) => new()
    {
        Scores = [.. result.Scores.Select(s => new ScoredText { Text = s.Text, Score = s.Score, UnknownWords = s.UnknownWords, Similarity = s.Similarity, Evidence = s.Evidence is { } map ? HeatMap.From(map) : null })],
        ImageDistance = ImageDistanceDescription.From(result.ImageDistance),
        Warnings = ResponseWarnings.ForScore(result),
        Model = ModelSummary.From(result.Model),
        Timings = RequestTimings.From(result.Timings),
    };
}
