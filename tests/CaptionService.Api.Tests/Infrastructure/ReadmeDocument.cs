using System.Text.Json;
using System.Text.RegularExpressions;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>The parts of the repository's README.md that make promises about the API, parsed.</summary>
internal static partial class ReadmeDocument
{
    private static readonly Lazy<string> Text = new(() => File.ReadAllText(Path.Combine(RepositoryPaths.RepositoryRoot, "README.md")));

    /// <summary>The caption option table: option name to its meaning, in the README's order.</summary>
    public static IReadOnlyList<(string Name, string Meaning)> CaptionOptions() => Table("| option | meaning |");

    /// <summary>The score option table: option name to its meaning, in the README's order.</summary>
    public static IReadOnlyList<(string Name, string Meaning)> ScoreOptions() => Table("| score option | meaning |");

    /// <summary>The warning table: code to its meaning, in the README's order.</summary>
    public static IReadOnlyList<(string Code, string Meaning)> Warnings() => Table("| warning | meaning |");

    private static IReadOnlyList<(string Name, string Meaning)> Table(string header)
    {
        var start = Text.Value.IndexOf(header, StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no '{header}' table");
        var end = Text.Value.IndexOf("\n\n", start, StringComparison.Ordinal);
        return [.. OptionRow().Matches(Text.Value[start..end]).Select(m => (m.Groups["name"].Value, m.Groups["meaning"].Value.Trim()))];
    }

    /// <summary>Each <c>curl</c> example of "Using the API" with the JSON answer the README shows after it.</summary>
    public static IReadOnlyList<(string Command, JsonElement Answer)> CurlExamples()
    {
        var section = Section("## Using the API");
        return [.. CurlWithAnswer().Matches(section).Select(m =>
            (m.Groups["command"].Value.Replace("\\\n", " ", StringComparison.Ordinal).Trim(),
             JsonDocument.Parse(m.Groups["answer"].Value).RootElement.Clone()))];
    }

    private static string Section(string heading)
    {
        var start = Text.Value.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no section '{heading}'");
        var end = Text.Value.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return end < 0 ? Text.Value[start..] : Text.Value[start..end];
    }

    [GeneratedRegex(@"^\| `(?<name>[A-Za-z-]+)` \| (?<meaning>.+) \|$", RegexOptions.Multiline)]
    private static partial Regex OptionRow();

    [GeneratedRegex(@"```sh\n(?<command>curl [^`]+?)\n```\s*\n```json\n(?<answer>[^`]+?)\n```", RegexOptions.Singleline)]
    private static partial Regex CurlWithAnswer();
}
