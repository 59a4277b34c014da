using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// README, OpenAPI document and behaviour say the same thing about each caption option: the
/// README's option table is the document's parameter descriptions word for word, and what they
/// say about <c>maxTokens</c> is what the server does.
/// </summary>
[Collection(RealModelServerGroup.Name)]
public sealed class DocumentationAgreementTests(RealModelServer server)
{
    private const string DocumentSuffixStart = " For example ";

    private readonly HttpClient _client = server.Client;

    [Theory]
    [InlineData("/caption")]
    [InlineData("/score")]
    public async Task ReadmeOptionTablesAreTheOpenApiParameterDescriptions(string path)
    {
        var document = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json", TestTimeout.Default());
        var documented = document.GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("parameters")
            .EnumerateArray()
            .Select(p =>
            {
                var description = p.GetProperty("description").GetString()!;
                var suffix = description.IndexOf(DocumentSuffixStart, StringComparison.Ordinal);
                Assert.True(suffix > 0, $"'{description}' lacks its example");
                return (Name: p.GetProperty("name").GetString()!, Meaning: description[..suffix]);
            })
            .ToList();

        Assert.Equal(documented, path == "/caption" ? ReadmeDocument.CaptionOptions() : ReadmeDocument.ScoreOptions());
    }

    /// <summary>The README's warning table is the OpenAPI document's list of warning codes and their meanings.</summary>
    [Fact]
    public async Task ReadmeWarningTableIsTheOpenApiWarningCodes()
    {
        var document = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json", TestTimeout.Default());
        var code = document.GetProperty("components").GetProperty("schemas").GetProperty("ResponseWarning").GetProperty("properties").GetProperty("code");
        var codes = code.GetProperty("enum").EnumerateArray().Select(e => e.GetString()!).ToList();
        var meanings = code.GetProperty("description").GetString()!.Split('\n').Where(line => line.StartsWith("- `", StringComparison.Ordinal)).ToList();

        var readme = ReadmeDocument.Warnings();
        Assert.Equal(codes, readme.Select(r => r.Code));
        Assert.Equal(meanings, readme.Select(r => $"- `{r.Code}`: {r.Meaning}"));
    }

    /// <summary>
    /// As documented: at most maxTokens new tokens, the end-of-sequence token counted only when it
    /// is generated (its probability then joins logProb), the default and upper bound being
    /// <c>GET /model</c>'s maxTokens.
    /// </summary>
    [Fact]
    public async Task MaxTokensCountsNewTokensAndTheEndTokenOnlyWhenGenerated()
    {
        var cancellationToken = TestTimeout.Default();
        var modelMax = (await _client.GetFromJsonAsync<JsonElement>("/model", cancellationToken)).GetProperty("maxTokens").GetInt32();
        var full = await CaptionAsync(null, cancellationToken);
        Assert.Equal(full, await CaptionAsync(modelMax, cancellationToken));

        // The bundled tokenizer has one token per word, so the caption's words are its tokens.
        var words = full.Caption.Split(' ');
        for (var maxTokens = 1; maxTokens < words.Length; maxTokens++)
        {
            var cut = await CaptionAsync(maxTokens, cancellationToken);
            Assert.Equal(string.Join(' ', words[..maxTokens]), cut.Caption);
        }

        var withoutEnd = await CaptionAsync(words.Length, cancellationToken);
        var withEnd = await CaptionAsync(words.Length + 1, cancellationToken);
        Assert.Equal(full.Caption, withoutEnd.Caption);
        Assert.Equal(full, withEnd);
        Assert.True(withoutEnd.LogProb > withEnd.LogProb, $"logProb without the end token ({withoutEnd.LogProb}) should exceed the one with it ({withEnd.LogProb})");

        using var form = TestRequests.ImageForm(TestImages.ShapeWorldPng);
        using var overLimit = await _client.PostAsync($"/caption?maxTokens={modelMax + 1}", form, cancellationToken);
        await ProblemAssertions.AssertProblemAsync(overLimit, HttpStatusCode.BadRequest, "maxTokens");
    }

    private async Task<(string Caption, double LogProb)> CaptionAsync(int? maxTokens, CancellationToken cancellationToken)
    {
        using var form = TestRequests.ImageForm(TestImages.ShapeWorldPng);
        using var response = await _client.PostAsync(maxTokens is { } m ? $"/caption?maxTokens={m}" : "/caption", form, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var best = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("alternatives")[0];
        return (best.GetProperty("caption").GetString()!, best.GetProperty("logProb").GetDouble());
    }
}
