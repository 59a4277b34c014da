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
    public const string MaxTokens = "maxTokens";
    public const string Beams = "beams";
    public const string Alternatives = "alternatives";
    public const string Temperature = "temperature";
    public const string TopK = "topK";
    public const string TopP = "topP";
    public const string Seed = "seed";

    public static GenerationOptions Parse(HttpRequest request, IFormCollection form)
    {
        var defaults = GenerationOptions.Greedy;
        return new GenerationOptions
        {
            MaxTokens = Integer(request, form, MaxTokens),
            Beams = Integer(request, form, Beams) ?? defaults.Beams,
            Alternatives = Integer(request, form, Alternatives) ?? defaults.Alternatives,
            Temperature = Real(request, form, Temperature),
            TopK = Integer(request, form, TopK),
            TopP = Real(request, form, TopP),
            Seed = Integer(request, form, Seed),
        };
    }

    private static int? Integer(HttpRequest request, IFormCollection form, string name)
    {
        var text = RequestValues.Single(request, form, name);
        if (text is null)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw ClientRequestException.BadRequest($"The option '{name}' must be a whole number; got '{text}'.");
    }

    private static double? Real(HttpRequest request, IFormCollection form, string name)
    {
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
