using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>The server with <c>CaptionService:Model:Dtype</c> q8 on the vit-gpt2-tiny fixture: GET /model says so and captions come from the q8 graphs.</summary>
public sealed class ModelVariantTests : IAsyncLifetime, IDisposable
{
    private static readonly string s_fixture = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "fixtures", "vit-gpt2-tiny");
    private static readonly string s_reference = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "fixtures", "parity", "vit-gpt2-tiny", "transformersjs-variants.json");
    private readonly CaptionServiceFactory _factory = new(new Dictionary<string, string?>
    {
        ["CaptionService:Model:Path"] = s_fixture,
        ["CaptionService:Model:Dtype"] = "q8",
    });

    private HttpClient _client = null!;

    public async Task InitializeAsync() => _client = await _factory.CreateReadyClientAsync(TestTimeout.Default());

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task ModelShowsTheDtypeAndTheVariantFiles()
    {
        var model = await _client.GetFromJsonAsync<JsonElement>("/model", TestTimeout.Default());

        Assert.Equal("q8", model.GetProperty("dtype").GetString());
        var encoder = model.GetProperty("manifest").GetProperty("graphs").GetProperty("encoder");
        Assert.Equal("onnx/encoder_model_quantized.onnx", encoder.GetProperty("variants").GetProperty("q8").GetProperty("file").GetString());
    }

    [Fact]
    public async Task CaptionsAreTransformersJsQ8Captions()
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(s_reference));
        var images = reference.RootElement.GetProperty("images");
        var captions = reference.RootElement.GetProperty("captions");
        // The first image whose q8 caption differs from the fp32 one, so that only the q8 graphs give it.
        var index = Enumerable.Range(0, images.GetArrayLength())
            .First(i => captions.GetProperty("q8")[i].GetString() != captions.GetProperty("fp32")[i].GetString());
        var image = File.ReadAllBytes(Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "data", "shapeworld", images[index].GetString()!));

        using var response = await _client.PostAsync("/caption", TestRequests.RawImage(image), TestTimeout.Default());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestTimeout.Default());
        Assert.Equal(captions.GetProperty("q8")[index].GetString(), body.GetProperty("caption").GetString());
    }
}
