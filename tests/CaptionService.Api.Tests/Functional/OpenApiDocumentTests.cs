using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>The OpenAPI document describes both operations well enough to call them from Swagger UI.</summary>
[Collection(RealModelServerGroup.Name)]
public sealed class OpenApiDocumentTests(RealModelServer server)
{
    private static readonly string[] ProblemStatuses = ["400", "413", "415", "422", "429", "503"];

    private readonly HttpClient _client = server.Client;

    [Theory]
    [InlineData("/caption", true)]
    [InlineData("/score", false)]
    public async Task OperationHasSummaryDescriptionUploadFormAndDocumentedProblems(string path, bool acceptsRawImage)
    {
        var document = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json", TestTimeout.Default());
        var operation = document.GetProperty("paths").GetProperty(path).GetProperty("post");

        Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()));
        Assert.True(operation.GetProperty("description").GetString()!.Length > 80);

        var content = operation.GetProperty("requestBody").GetProperty("content");
        var form = content.GetProperty("multipart/form-data").GetProperty("schema");
        var image = form.GetProperty("properties").GetProperty("image");
        Assert.Equal("string", image.GetProperty("type").GetString());
        Assert.Equal("binary", image.GetProperty("format").GetString());
        Assert.Contains("image", form.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(acceptsRawImage, content.TryGetProperty("image/*", out _));

        var responses = operation.GetProperty("responses");
        Assert.True(responses.GetProperty("200").GetProperty("content").TryGetProperty("application/json", out _));
        foreach (var status in ProblemStatuses)
        {
            var problem = responses.GetProperty(status);
            Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("description").GetString()));
            var example = problem.GetProperty("content").GetProperty("application/problem+json").GetProperty("example");
            Assert.Equal(int.Parse(status, System.Globalization.CultureInfo.InvariantCulture), example.GetProperty("status").GetInt32());

            // The example's title is one the server sends, and the description names it.
            var title = example.GetProperty("title").GetString()!;
            Assert.Contains(title, ProblemAssertions.KnownTitles);
            Assert.Contains($"`{title}`", problem.GetProperty("description").GetString(), StringComparison.Ordinal);
        }

        Assert.True(responses.GetProperty("429").GetProperty("headers").TryGetProperty("Retry-After", out _));
        Assert.True(responses.GetProperty("503").GetProperty("headers").TryGetProperty("Retry-After", out _));
    }

    [Fact]
    public async Task CaptionOptionsAreDocumentedAsQueryParametersThatTryItOutLeavesAtThePackageDefaults()
    {
        var document = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json", TestTimeout.Default());
        var parameters = document.GetProperty("paths").GetProperty("/caption").GetProperty("post").GetProperty("parameters")
            .EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);

        Assert.Equal(
            ["alternatives", "beams", "earlyStopping", "explain", "lengthPenalty", "maxTokens", "minTokens", "noRepeatNgramSize", "repetitionPenalty", "seed", "temperature", "topK", "topP", "verify"],
            parameters.Keys.Order(StringComparer.Ordinal));
        Assert.All(parameters.Values, p =>
        {
            Assert.Equal("query", p.GetProperty("in").GetString());
            Assert.Contains("For example", p.GetProperty("description").GetString(), StringComparison.Ordinal);

            // Swagger UI sends examples and defaults with "Try it out". None is given, so it sends an
            // empty request, which the package's generation defaults decide (greedy for the bundled
            // one); a default such as beams=1 would override them, and lengthPenalty would then be refused.
            Assert.False(p.TryGetProperty("example", out _));
            Assert.False(p.GetProperty("schema").TryGetProperty("default", out _));
        });
        Assert.Equal(["true", "false", "never"], parameters["earlyStopping"].GetProperty("schema").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("boolean", parameters["verify"].GetProperty("schema").GetProperty("type").GetString());
        Assert.Equal("boolean", parameters["explain"].GetProperty("schema").GetProperty("type").GetString());
    }

    [Fact]
    public async Task ScoreTakesStrictAndExplainAsBooleanQueryParameters()
    {
        var document = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json", TestTimeout.Default());
        var parameters = document.GetProperty("paths").GetProperty("/score").GetProperty("post").GetProperty("parameters").EnumerateArray().ToList();

        Assert.Equal(["strict", "explain"], parameters.Select(p => p.GetProperty("name").GetString()));
        Assert.All(parameters, p =>
        {
            Assert.Equal("boolean", p.GetProperty("schema").GetProperty("type").GetString());
            Assert.False(p.GetProperty("schema").TryGetProperty("default", out _));
        });
    }

    [Fact]
    public async Task HeatMapsAreDocumentedAsPngAnswersWithTheirOptions()
    {
        var document = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json", TestTimeout.Default());
        var paths = document.GetProperty("paths");

        foreach (var path in new[] { "/caption/heatmap", "/score/heatmap" })
        {
            var operation = paths.GetProperty(path).GetProperty("post");
            Assert.True(operation.GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("image/png", out _), path);
            Assert.True(operation.GetProperty("responses").TryGetProperty("400", out _), path);
        }

        var captionParameters = paths.GetProperty("/caption/heatmap").GetProperty("post").GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Contains("word", captionParameters);
        Assert.Contains("beams", captionParameters);
        Assert.DoesNotContain("explain", captionParameters);
    }

    [Fact]
    public async Task ResponseSchemasCarryTheContractNamesDescriptionsAndExamples()
    {
        var document = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json", TestTimeout.Default());
        var schemas = document.GetProperty("components").GetProperty("schemas");

        var caption = schemas.GetProperty("CaptionResponse").GetProperty("properties");
        Assert.Equal(
            ["alternatives", "caption", "confidence", "explanation", "imageDistance", "model", "timings", "verification", "warnings"],
            caption.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.False(string.IsNullOrWhiteSpace(caption.GetProperty("confidence").GetProperty("description").GetString()));
        Assert.Equal(JsonValueKind.String, caption.GetProperty("caption").GetProperty("example").ValueKind);

        var scored = schemas.GetProperty("ScoredText").GetProperty("properties");
        Assert.Equal(["evidence", "score", "similarity", "text", "unknownWords"], scored.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var score = schemas.GetProperty("ScoreResponse").GetProperty("properties");
        Assert.Equal(["imageDistance", "model", "scores", "timings", "warnings"], score.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var warningCode = schemas.GetProperty("ResponseWarning").GetProperty("properties").GetProperty("code");
        Assert.Equal(["unknown-words", "text-truncated", "degenerate-caption", "low-verification", "out-of-distribution"], warningCode.GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.True(schemas.TryGetProperty("ProblemDetails", out _));
    }

    [Fact]
    public async Task ModelExamplesAreTheLoadedPackage()
    {
        var cancellationToken = TestTimeout.Default();
        var document = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json", cancellationToken);
        var model = await _client.GetFromJsonAsync<JsonElement>("/model", cancellationToken);
        var schemas = document.GetProperty("components").GetProperty("schemas");

        Assert.True(
            JsonElement.DeepEquals(model, schemas.GetProperty("ModelDescription").GetProperty("example")),
            $"The ModelDescription example is not GET /model's answer {model}");
        var summary = schemas.GetProperty("ModelSummary").GetProperty("example");
        Assert.Equal(model.GetProperty("name").GetString(), summary.GetProperty("name").GetString());
        Assert.Equal(model.GetProperty("version").GetString(), summary.GetProperty("version").GetString());
    }

    [Fact]
    public async Task SwaggerUiIsServedAtSwagger()
    {
        var cancellationToken = TestTimeout.Default();
        using var response = await _client.GetAsync("/swagger/index.html", cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("swagger-ui", await response.Content.ReadAsStringAsync(cancellationToken), StringComparison.Ordinal);
    }
}
