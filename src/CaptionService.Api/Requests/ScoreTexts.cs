using CaptionService.Api.Errors;

namespace CaptionService.Api.Requests;

/// <summary>The statements of a <c>POST /score</c> request: the form's <c>text</c> fields, in order.</summary>
internal static class ScoreTexts
{
    public const string TextField = "text";

    /// <summary>The most texts one request may score; they all run in one fusion batch.</summary>
    public const int MaxTexts = 64;

    public static IReadOnlyList<string> Read(IFormCollection form)
    {
        var texts = form[TextField];
        if (texts.Count == 0)
        {
            throw ClientRequestException.BadRequest("Send at least one 'text' form field with a statement to score against the image.");
        }

        if (texts.Count > MaxTexts)
        {
            throw ClientRequestException.BadRequest($"At most {MaxTexts} 'text' fields per request; got {texts.Count}.");
        }

        var result = new string[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            var text = texts[i];
            if (string.IsNullOrWhiteSpace(text))
            {
                throw ClientRequestException.BadRequest($"'text' field {i + 1} of {texts.Count} is empty; every statement needs at least one word.");
            }

            result[i] = text;
        }

        return result;
    }
}
