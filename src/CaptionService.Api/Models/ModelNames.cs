using System.Text.RegularExpressions;

namespace CaptionService.Api.Models;

/// <summary>What a model name may be: it is a URL path segment and a Prometheus label value.</summary>
internal static partial class ModelNames
{
    public const string Pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

    public static bool IsValid(string name) => ValidName().IsMatch(name);

    [GeneratedRegex(Pattern)]
    private static partial Regex ValidName();
}
