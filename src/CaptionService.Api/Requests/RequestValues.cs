using CaptionService.Api.Errors;
using Microsoft.Extensions.Primitives;

namespace CaptionService.Api.Requests;

/// <summary>Reads named values from the query string and the form, which are interchangeable for options.</summary>
internal static class RequestValues
{
    /// <summary>The single value of <paramref name="name"/>, or null when absent or blank; 400 when given more than once.</summary>
    public static string? Single(HttpRequest request, IFormCollection form, string name)
    {
        var values = StringValues.Concat(request.Query[name], form[name]);
        var present = values.Where(v => !string.IsNullOrWhiteSpace(v)).ToArray();
        return present.Length switch
        {
            0 => null,
            1 => present[0],
            _ => throw ClientRequestException.BadRequest($"The option '{name}' is given {present.Length} times (query string and form together); give it once."),
        };
    }

    /// <summary>The option <paramref name="name"/> as <c>true</c> or <c>false</c>, or null when absent; 400 for any other word.</summary>
    public static bool? Boolean(HttpRequest request, IFormCollection form, string name) =>
        Single(request, form, name)?.Trim().ToLowerInvariant() switch
        {
            null => null,
            "true" => true,
            "false" => false,
            var text => throw ClientRequestException.BadRequest($"The option '{name}' must be true or false; got '{text}'."),
        };
}
