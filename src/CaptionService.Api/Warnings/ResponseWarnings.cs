using System.Globalization;
using CaptionService.Api.Contracts;
using CaptionService.Inference;

namespace CaptionService.Api.Warnings;

/// <summary>Turns what the engine found about a request into the warnings of <see cref="WarningCatalog"/>.</summary>
internal static class ResponseWarnings
{
    public static IReadOnlyList<ResponseWarning> ForCaption(CaptionResult result, WarningOptions options)
    {
        var warnings = new List<ResponseWarning>();
        AddOutOfDistribution(warnings, result.ImageDistance);
        if (result.Repetition is { } repetition)
        {
            warnings.Add(Warning(WarningCatalog.DegenerateCaption,
                $"The caption repeats '{repetition.Words}' {repetition.Times} times in a row."));
        }

        if (result.Verification is { } verification && verification < options.LowVerificationScore)
        {
            warnings.Add(Warning(WarningCatalog.LowVerification, string.Create(CultureInfo.InvariantCulture,
                $"The caption's fusion score is {verification:0.###}, below {options.LowVerificationScore:0.###}: the model's scorer doubts it is true.")));
        }

        return warnings;
    }

    public static IReadOnlyList<ResponseWarning> ForScore(ScoreResult result)
    {
        var warnings = new List<ResponseWarning>();
        AddOutOfDistribution(warnings, result.ImageDistance);
        for (var i = 0; i < result.Scores.Count; i++)
        {
            if (result.Scores[i].UnknownWords is { Count: > 0 } unknown)
            {
                warnings.Add(Warning(WarningCatalog.UnknownWords,
                    $"{UnknownWordsMessage(i, result.Scores.Count, unknown)} {(unknown.Count == 1 ? "It was" : "They were")} scored as the unknown token, so the score does not judge {(unknown.Count == 1 ? "it" : "them")}."));
            }

            if (result.Scores[i].Truncated)
            {
                warnings.Add(Warning(WarningCatalog.TextTruncated,
                    $"Text {i + 1} of {result.Scores.Count} is longer than the model takes (maxTokens in GET /model, special tokens included): only its beginning was scored."));
            }
        }

        return warnings;
    }

    /// <summary>Names the unknown words of one text; also in the detail of the 422 that <c>strict=true</c> answers.</summary>
    public static string UnknownWordsMessage(int index, int count, IReadOnlyList<string> unknown) =>
        $"Text {index + 1} of {count}: the model does not know {string.Join(", ", unknown.Select(w => $"'{w}'"))}.";

    private static void AddOutOfDistribution(List<ResponseWarning> warnings, ImageDistance? distance)
    {
        if (distance is { OutOfDistribution: true })
        {
            warnings.Add(Warning(WarningCatalog.OutOfDistribution, string.Create(CultureInfo.InvariantCulture,
                $"The image is unlike the model's scenes: distance {distance.Distance:0.#}, threshold {distance.Threshold:0.#}.")));
        }
    }

    private static ResponseWarning Warning(WarningKind kind, string message) => new() { Code = kind.Code, Message = message };
}
