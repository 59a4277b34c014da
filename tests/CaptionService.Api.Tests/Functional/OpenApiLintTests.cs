using System.Diagnostics;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// A real OpenAPI consumer reads the document: Redocly CLI's recommended ruleset reports no error,
/// with API keys off and on (tests/openapi/install.sh installs it; test.sh runs that first).
/// </summary>
public sealed class OpenApiLintTests
{
    private static readonly string Redocly = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "openapi", "node_modules", ".bin", "redocly");

    [Fact]
    public async Task RecommendedRulesetFindsNoErrorWithKeysOff()
    {
        await using var server = new CaptionServiceFactory();
        await AssertNoLintErrorsAsync(server);
    }

    [Fact]
    public async Task RecommendedRulesetFindsNoErrorWithKeysOn()
    {
        await using var server = new ApiKeyServer();
        await AssertNoLintErrorsAsync(server);
    }

    private static async Task AssertNoLintErrorsAsync(CaptionServiceFactory server)
    {
        Assert.True(File.Exists(Redocly), $"Redocly CLI is not installed at {Redocly}; run tests/openapi/install.sh");
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(2));
        using var client = server.CreateClient();
        var document = Path.Combine(Path.GetTempPath(), $"captionservice-openapi-{Guid.NewGuid():N}.json");
        try
        {
            await File.WriteAllTextAsync(document, await client.GetStringAsync("/swagger/v1/swagger.json", cancellationToken), cancellationToken);
            var start = new ProcessStartInfo(Redocly, ["lint", document, "--format=json"]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var lint = Process.Start(start)!;
            var output = await lint.StandardOutput.ReadToEndAsync(cancellationToken);
            await lint.StandardError.ReadToEndAsync(cancellationToken);
            await lint.WaitForExitAsync(cancellationToken);

            var report = JsonDocument.Parse(output).RootElement;
            var errors = report.GetProperty("problems").EnumerateArray()
                .Where(p => p.GetProperty("severity").GetString() == "error")
                .Select(p => $"{p.GetProperty("ruleId").GetString()}: {p.GetProperty("message").GetString()}")
                .ToList();
            Assert.True(errors.Count == 0, "Redocly reports:\n" + string.Join('\n', errors));
            Assert.Equal(0, report.GetProperty("totals").GetProperty("errors").GetInt32());
        }
        finally
        {
            File.Delete(document);
        }
    }
}
