using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// Several models in one server: a repository with the tiny captioning fixture ("vit", the
/// default), the tiny CLIP ("clip") and a package that cannot load ("broken").
/// </summary>
public sealed class ModelRepositoryTests : IAsyncLifetime, IDisposable
{
    private readonly TestModelRepository _repository = new TestModelRepository()
        .With("vit", TestModelRepository.CaptioningFixture)
        .With("clip", TestModelRepository.ClipFixture)
        .WithBroken("broken");

    private CaptionServiceFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _factory = new CaptionServiceFactory(new Dictionary<string, string?>
        {
            ["CaptionService:Models:Repository"] = _repository.Root,
            ["CaptionService:Models:Default"] = "vit",
        });
        _client = await _factory.CreateReadyClientAsync(TestTimeout.Default());
        await WaitUntilNoModelLoadsAsync(_client, TestTimeout.Default());
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
        _repository.Dispose();
    }

    [Fact]
    public async Task ListShowsEveryModelAndWhyTheBrokenOneFailed()
    {
        var list = await _client.GetFromJsonAsync<JsonElement>("/v1/models", TestTimeout.Default());

        Assert.Equal("vit", list.GetProperty("default").GetString());
        var models = list.GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.Equal(["broken", "clip", "vit"], models.Keys);
        Assert.Equal(("ready", "captioning", "0.0.1", true), Summary(models["vit"]));
        Assert.Equal(("ready", "scoring", "unpinned", false), Summary(models["clip"]));
        Assert.Equal("failed", models["broken"].GetProperty("state").GetString());
        Assert.Contains("generation_config.json", models["broken"].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, models["broken"].GetProperty("version").ValueKind);
        Assert.Equal("cpu", models["vit"].GetProperty("executionProvider").GetString(), ignoreCase: true);
    }

    [Fact]
    public async Task EachNamedRouteServesItsModelAndTheUnnamedOnesServeTheDefault()
    {
        var cancellationToken = TestTimeout.Default();
        var image = File.ReadAllBytes(RepositoryPaths.ShapeWorldImage);

        using var named = await _client.PostAsync("/v1/models/vit/caption", TestRequests.RawImage(image), cancellationToken);
        using var unnamed = await _client.PostAsync("/caption", TestRequests.RawImage(image), cancellationToken);
        using var score = await _client.PostAsync("/v1/models/clip/score", TestRequests.ScoreForm(image, "a red square", "a blue circle"), cancellationToken);
        using var clipCaption = await _client.PostAsync("/v1/models/clip/caption", TestRequests.RawImage(image), cancellationToken);
        using var defaultScore = await _client.PostAsync("/score", TestRequests.ScoreForm(image, "a red square"), cancellationToken);

        var namedBody = await named.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var unnamedBody = await unnamed.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        Assert.Equal(HttpStatusCode.OK, named.StatusCode);
        Assert.Equal("vit-gpt2-tiny", namedBody.GetProperty("model").GetProperty("name").GetString());
        Assert.Equal(namedBody.GetProperty("caption").GetString(), unnamedBody.GetProperty("caption").GetString());
        Assert.Equal(HttpStatusCode.OK, score.StatusCode);
        var scores = (await score.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("scores").EnumerateArray().ToList();
        Assert.Equal(1.0, scores.Sum(s => s.GetProperty("score").GetDouble()), 1e-9);
        await ProblemAssertions.AssertProblemAsync(clipCaption, HttpStatusCode.NotFound, "POST /score");
        await ProblemAssertions.AssertProblemAsync(defaultScore, HttpStatusCode.NotFound, "fusion");
    }

    [Theory]
    [InlineData("POST", "/v1/models/nope/caption")]
    [InlineData("POST", "/v1/models/nope/score")]
    [InlineData("GET", "/v1/models/nope")]
    [InlineData("POST", "/v1/models/nope/reload")]
    public async Task AnUnknownNameIsANotFoundProblemNamingTheModels(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = TestRequests.RawImage(File.ReadAllBytes(RepositoryPaths.ShapeWorldImage)),
        };

        using var response = await _client.SendAsync(request, TestTimeout.Default());

        var problem = await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.NotFound, "broken, clip, vit");
        Assert.Equal("Unknown model", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task TheFailedModelAnswers503WithItsReasonWhileTheOthersServe()
    {
        using var response = await _client.PostAsync("/v1/models/broken/caption",
            TestRequests.RawImage(File.ReadAllBytes(RepositoryPaths.ShapeWorldImage)), TestTimeout.Default());

        var problem = await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "failed to load");
        Assert.Equal("Model unavailable", problem.GetProperty("title").GetString());
        ProblemAssertions.AssertRetryAfter(response);
        using var ready = await _client.GetAsync("/health/ready", TestTimeout.Default());
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task TheDocumentListsTheModelNamesOnEveryNamedRoute()
    {
        var document = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json", TestTimeout.Default());

        foreach (var (path, method) in new[] { ("/v1/models/{name}/caption", "post"), ("/v1/models/{name}/score", "post"), ("/v1/models/{name}", "get"), ("/v1/models/{name}/reload", "post") })
        {
            var parameter = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("parameters").EnumerateArray()
                .Single(p => p.GetProperty("in").GetString() == "path");
            Assert.Equal("name", parameter.GetProperty("name").GetString());
            Assert.Equal(["broken", "clip", "vit"], parameter.GetProperty("schema").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("vit", parameter.GetProperty("schema").GetProperty("default").GetString());
        }
    }

    [Fact]
    public async Task EngineMetricsCarryTheModelLabel()
    {
        var cancellationToken = TestTimeout.Default();
        var image = File.ReadAllBytes(RepositoryPaths.ShapeWorldImage);
        using (await _client.PostAsync("/v1/models/clip/score", TestRequests.ScoreForm(image, "a red square"), cancellationToken))
        using (await _client.PostAsync("/v1/models/vit/caption", TestRequests.RawImage(image), cancellationToken))
        {
        }

        var metrics = await _client.GetStringAsync("/metrics", cancellationToken);

        Assert.Contains("captionservice_batch_size_count{stage=\"score\",model=\"clip\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("captionservice_batch_size_count{stage=\"caption\",model=\"vit\"}", metrics, StringComparison.Ordinal);
        // Any, not the single, vit-gpt2-tiny info line: meters are process-wide, so the other test
        // classes' servers running in parallel may load the same package and add lines of their own.
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("captionservice_model_info{", StringComparison.Ordinal)
            && l.Contains("vit-gpt2-tiny", StringComparison.Ordinal) && l.Contains("model=\"vit\"", StringComparison.Ordinal));
    }

    /// <summary>Readiness waits for the default model only; the others may still be loading (warm-up takes seconds on a busy machine).</summary>
    private static async Task WaitUntilNoModelLoadsAsync(HttpClient client, CancellationToken cancellationToken)
    {
        while (true)
        {
            var list = await client.GetFromJsonAsync<JsonElement>("/v1/models", cancellationToken);
            if (list.GetProperty("models").EnumerateArray().All(m => m.GetProperty("state").GetString() != "loading"))
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }

    private static (string?, string?, string?, bool) Summary(JsonElement model) => (
        model.GetProperty("state").GetString(),
        model.GetProperty("kind").GetString(),
        model.GetProperty("version").GetString(),
        model.GetProperty("default").GetBoolean());
}
