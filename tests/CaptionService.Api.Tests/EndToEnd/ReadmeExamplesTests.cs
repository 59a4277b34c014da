using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.EndToEnd;

/// <summary>
/// The README's curl examples, run verbatim from the repository root against the real server
/// (only the address changes), answer what the README shows: the same strings, and numbers equal
/// to the precision the README prints. Timings vary and are not compared.
/// </summary>
[Collection(ServerProcessGroup.Name)]
public sealed class ReadmeExamplesTests
{
    private const string DocumentedAddress = "http://localhost:8080";

    [Fact]
    public async Task CurlExamplesAnswerWhatTheReadmeShows()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(2));
        var examples = ReadmeDocument.CurlExamples();
        Assert.True(examples.Count >= 3, $"expected the caption, beam and score examples; found {examples.Count}");

        await using var server = ServerProcess.Start();
        using var client = new HttpClient();
        await server.WaitUntilReadyAsync(client, cancellationToken);

        foreach (var (command, answer) in examples)
        {
            Assert.Contains(DocumentedAddress, command, StringComparison.Ordinal);
            var output = await RunAsync(command.Replace(DocumentedAddress, server.BaseAddress.ToString().TrimEnd('/'), StringComparison.Ordinal), cancellationToken);
            AssertMatches(answer, JsonDocument.Parse(output).RootElement, command);
        }
    }

    private static void AssertMatches(JsonElement shown, JsonElement actual, string where)
    {
        switch (shown.ValueKind)
        {
            case JsonValueKind.Object:
                Assert.Equal(JsonValueKind.Object, actual.ValueKind);
                foreach (var property in shown.EnumerateObject().Where(p => p.Name != "timings"))
                {
                    Assert.True(actual.TryGetProperty(property.Name, out var value), $"{where}: the answer has no '{property.Name}'");
                    AssertMatches(property.Value, value, $"{where} .{property.Name}");
                }

                break;
            case JsonValueKind.Array:
                Assert.Equal(shown.GetArrayLength(), actual.GetArrayLength());
                for (var i = 0; i < shown.GetArrayLength(); i++)
                {
                    AssertMatches(shown[i], actual[i], $"{where}[{i}]");
                }

                break;
            case JsonValueKind.Number:
                var text = shown.GetRawText();
                var decimals = text.Contains('.', StringComparison.Ordinal) ? text.Length - text.IndexOf('.', StringComparison.Ordinal) - 1 : 0;
                Assert.True(
                    Math.Round(actual.GetDouble(), decimals) == shown.GetDouble(),
                    $"{where}: the README shows {text}, the server answered {actual.GetDouble().ToString(CultureInfo.InvariantCulture)}");
                break;
            default:
                Assert.Equal(shown.ToString(), actual.ToString());
                break;
        }
    }

    private static async Task<string> RunAsync(string command, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("bash", ["-c", command])
        {
            WorkingDirectory = RepositoryPaths.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        Assert.True(process.ExitCode == 0, $"`{command}` exited {process.ExitCode}: {error}");
        return output;
    }
}
