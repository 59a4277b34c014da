using System.Globalization;
using CaptionService.Api.Errors;
using CaptionService.Inference;

namespace CaptionService.Api.Requests;

/// <summary>
/// Reads the caption options from the query string or the form. Only the syntax is checked here
/// (a number where a number belongs); ranges and combinations are the engine's to judge.
/// </summary>
internal static class GenerationOptionsParser
{
    public static GenerationOptions Parse(HttpRequest request, IFormCollection form)
    {
        return new GenerationOptions
        {
            MaxTokens = Integer(request, form, GenerationOptionCatalog.MaxTokens),
            MinTokens = Integer(request, form, GenerationOptionCatalog.MinTokens),
            Beams = Integer(request, form, GenerationOptionCatalog.Beams),
            Alternatives = Integer(request, form, GenerationOptionCatalog.Alternatives),
            LengthPenalty = Real(request, form, GenerationOptionCatalog.LengthPenalty),
            EarlyStopping = EarlyStoppingRule(request, form, GenerationOptionCatalog.EarlyStopping),
            NoRepeatNgramSize = Integer(request, form, GenerationOptionCatalog.NoRepeatNgramSize),
            RepetitionPenalty = Real(request, form, GenerationOptionCatalog.RepetitionPenalty),
            Temperature = Real(request, form, GenerationOptionCatalog.Temperature),
            TopK = Integer(request, form, GenerationOptionCatalog.TopK),
            TopP = Real(request, form, GenerationOptionCatalog.TopP),
            Seed = Integer(request, form, GenerationOptionCatalog.Seed),
            Verify = RequestValues.Boolean(request, form, GenerationOptionCatalog.Verify.Name),
            Explain = RequestValues.Boolean(request, form, GenerationOptionCatalog.Explain.Name),
        };
    }

    internal static int? Integer(HttpRequest request, IFormCollection form, RequestOption option)
    {
        var name = option.Name;
        var text = RequestValues.Single(request, form, name);
        if (text is null)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw ClientRequestException.BadRequest($"The option '{name}' must be a whole number; got '{text}'.");
    }

    private static EarlyStopping? EarlyStoppingRule(HttpRequest request, IFormCollection form, RequestOption option)
    {
        var name = option.Name;
        return RequestValues.Single(request, form, name)?.Trim().ToLowerInvariant() switch
        {
            null => null,
            "true" => EarlyStopping.AsSoonAsBeamsFinish,
            "false" => EarlyStopping.Heuristic,
            "never" => EarlyStopping.Never,
            var text => throw ClientRequestException.BadRequest($"The option '{name}' must be one of {string.Join(", ", option.Choices!)}; got '{text}'."),
        };
    }

    private static double? Real(HttpRequest request, IFormCollection form, RequestOption option)
    {
        var name = option.Name;
        var text = RequestValues.Single(request, form, name);
        if (text is null)
        {
            return null;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw ClientRequestException.BadRequest($"The option '{name}' must be a finite number such as 0.7; got '{text}'.");
    }
}
