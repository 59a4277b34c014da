using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>A package without the cross-attention outputs (the vit-gpt2-tiny fixture) refuses explanations with a problem that says how to add them.</summary>
public sealed class ExplanationRefusalTests : IAsyncLifetime, IDisposable
{
    private static readonly string s_fixture = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "fixtures", "vit-gpt2-tiny");
    private static readonly string s_image = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "fixtures", "parity", "vit-gpt2-tiny", "image-0.png");
    private readonly CaptionServiceFactory _factory = new(new Dictionary<string, string?> { ["CaptionService:Model:Path"] = s_fixture });
    private HttpClient _client = null!;

    public async Task InitializeAsync() => _client = await _factory.CreateReadyClientAsync(TestTimeout.Default());

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _factory.Dispose();

    [Theory]
    [InlineData("/caption?explain=true")]
    [InlineData("/caption/heatmap?word=0")]
    public async Task ExplainingACaptionIsAnInvalidOptionNamingTheRemedy(string path)
    {
        using var response = await _client.PostAsync(path, TestRequests.RawImage(File.ReadAllBytes(s_image)), TestTimeout.Default());

        var problem = await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.BadRequest, detailMentions: "add-attention-outputs");
        Assert.Equal("Invalid option", problem.GetProperty("title").GetString());
        Assert.Contains("decoder.cross_attentions", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCaptionWithoutExplainStillWorksAndTheModelSaysWhatItCannotDo()
    {
        using var response = await _client.PostAsync("/caption", TestRequests.RawImage(File.ReadAllBytes(s_image)), TestTimeout.Default());
        var model = await _client.GetFromJsonAsync<JsonElement>("/model", TestTimeout.Default());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(model.GetProperty("explainsCaptions").GetBoolean());
        Assert.False(model.GetProperty("explainsScores").GetBoolean());
    }
}
