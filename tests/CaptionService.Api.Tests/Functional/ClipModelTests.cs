using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>The server pointed at a CLIP package (the clip-tiny fixture, no caption_service.json): /score, /caption, /model.</summary>
public sealed class ClipModelTests : IAsyncLifetime, IDisposable
{
    private static readonly string s_fixture = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "fixtures", "clip-tiny");
    private static readonly string s_image = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "fixtures", "parity", "clip-tiny", "image-0.png");
    private readonly CaptionServiceFactory _factory = new(new Dictionary<string, string?> { ["CaptionService:Model:Path"] = s_fixture });
    private HttpClient _client = null!;

    public async Task InitializeAsync() => _client = await _factory.CreateReadyClientAsync(TestTimeout.Default());

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task ScoreGivesSimilarityAndSoftmaxedScores()
    {
        using var form = TestRequests.ScoreForm(File.ReadAllBytes(s_image), "a red square", "a blue circle", "nothing at all");

        using var response = await _client.PostAsync("/score", form, TestTimeout.Default());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var scores = (await response.Content.ReadFromJsonAsync<JsonElement>(TestTimeout.Default())).GetProperty("scores").EnumerateArray().ToList();
        Assert.Equal(["a red square", "a blue circle", "nothing at all"], scores.Select(s => s.GetProperty("text").GetString()));
        Assert.Equal(1.0, scores.Sum(s => s.GetProperty("score").GetDouble()), 1e-9);
        Assert.All(scores, s => Assert.InRange(s.GetProperty("similarity").GetDouble(), -1.0, 1.0));
    }

    [Fact]
    public async Task ATextOver77TokensIsScoredTruncatedWithAWarning()
    {
        var longText = string.Join(' ', Enumerable.Repeat("red", 90));
        using var form = TestRequests.ScoreForm(File.ReadAllBytes(s_image), longText, "a blue circle");

        using var response = await _client.PostAsync("/score", form, TestTimeout.Default());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestTimeout.Default());
        var warning = Assert.Single(body.GetProperty("warnings").EnumerateArray());
        Assert.Equal("text-truncated", warning.GetProperty("code").GetString());
        Assert.StartsWith("Text 1 of 2 is longer than the model takes", warning.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CaptionIsANotFoundProblem()
    {
        using var response = await _client.PostAsync("/caption", TestRequests.RawImage(File.ReadAllBytes(s_image)), TestTimeout.Default());

        var problem = await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.NotFound, detailMentions: "POST /score");
        Assert.Equal("Not supported by the model", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task ModelSaysScoringAndShowsTheInferredManifest()
    {
        var model = await _client.GetFromJsonAsync<JsonElement>("/model", TestTimeout.Default());

        Assert.Equal("scoring", model.GetProperty("kind").GetString());
        Assert.True(model.GetProperty("supportsScoring").GetBoolean());
        Assert.Equal("inferred", model.GetProperty("manifestSource").GetString());
        Assert.Equal("clip", model.GetProperty("manifest").GetProperty("kind").GetString());
        Assert.Equal(77, model.GetProperty("maxTokens").GetInt32());
        Assert.Equal("fp32", model.GetProperty("dtype").GetString());
        Assert.False(model.TryGetProperty("decoderState", out _)); // no caption decoder
    }
}
