using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>POST /caption with the real default model: both body kinds, the options, and the exact response shape.</summary>
[Collection(RealModelServerGroup.Name)]
public sealed class CaptionEndpointTests(RealModelServer server)
{
    private readonly HttpClient _client = server.Client;

    [Fact]
    public async Task MultipartUploadReturnsACaptionInTheContractShape()
    {
        var cancellationToken = TestTimeout.Default();
        using var form = TestRequests.ImageForm(TestImages.ShapeWorldPng);

        using var response = await _client.PostAsync("/caption", form, cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        AssertCaptionShape(body);

        // Greedy decoding through the whole server gives the exporter's PyTorch caption of this image.
        var caption = body.GetProperty("caption").GetString();
        Assert.Equal(ReferenceCaptions.ForShapeWorldImage, caption);

        var alternatives = body.GetProperty("alternatives");
        Assert.Equal(1, alternatives.GetArrayLength());
        Assert.Equal(caption, alternatives[0].GetProperty("caption").GetString());

        var confidence = body.GetProperty("confidence").GetDouble();
        Assert.InRange(confidence, double.Epsilon, 1.0);
        Assert.True(alternatives[0].GetProperty("logProb").GetDouble() <= 0);

        var model = await _client.GetFromJsonAsync<JsonElement>("/model", cancellationToken);
        Assert.Equal(model.GetProperty("name").GetString(), body.GetProperty("model").GetProperty("name").GetString());
        Assert.Equal(model.GetProperty("version").GetString(), body.GetProperty("model").GetProperty("version").GetString());

        var timings = body.GetProperty("timings");
        Assert.True(timings.GetProperty("totalMs").GetDouble() > 0);
        Assert.True(timings.GetProperty("totalMs").GetDouble() >= timings.GetProperty("inferenceMs").GetDouble());
    }

    [Fact]
    public async Task RawImageBodyGivesTheSameGreedyCaptionAsMultipart()
    {
        var cancellationToken = TestTimeout.Default();
        using var form = TestRequests.ImageForm(TestImages.ShapeWorldPng);
        using var raw = TestRequests.RawImage(TestImages.ShapeWorldPng);

        using var fromForm = await _client.PostAsync("/caption", form, cancellationToken);
        using var fromRaw = await _client.PostAsync("/caption", raw, cancellationToken);

        Assert.Equal(HttpStatusCode.OK, fromRaw.StatusCode);
        var formCaption = (await fromForm.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("caption").GetString();
        var rawBody = await fromRaw.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        AssertCaptionShape(rawBody);
        Assert.Equal(formCaption, rawBody.GetProperty("caption").GetString());
    }

    [Fact]
    public async Task BeamSearchAlternativesComeBestFirstFromQueryOrFormOptions()
    {
        var cancellationToken = TestTimeout.Default();
        using var raw = TestRequests.RawImage(TestImages.ShapeWorldPng);
        using var form = TestRequests.ImageForm(TestImages.ShapeWorldPng);
        form.Add(new StringContent("3"), "beams");
        form.Add(new StringContent("3"), "alternatives");

        using var fromQuery = await _client.PostAsync("/caption?beams=3&alternatives=3", raw, cancellationToken);
        using var fromForm = await _client.PostAsync("/caption", form, cancellationToken);

        foreach (var response in new[] { fromQuery, fromForm })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            var alternatives = body.GetProperty("alternatives").EnumerateArray().ToList();
            Assert.Equal(3, alternatives.Count);
            Assert.Equal(body.GetProperty("caption").GetString(), alternatives[0].GetProperty("caption").GetString());
            // Ranked by transformers' score (length-penalised), which each alternative carries.
            var scores = alternatives.Select(a => a.GetProperty("score").GetDouble()).ToList();
            Assert.Equal(scores.OrderDescending(), scores);
        }
    }

    [Fact]
    public async Task HuggingFaceOptionsAreAcceptedAndGreedyAnswersCarryNoScore()
    {
        var cancellationToken = TestTimeout.Default();
        using var raw = TestRequests.RawImage(TestImages.ShapeWorldPng);
        using var greedyRaw = TestRequests.RawImage(TestImages.ShapeWorldPng);

        using var beams = await _client.PostAsync(
            "/caption?beams=4&alternatives=2&lengthPenalty=2&earlyStopping=never&noRepeatNgramSize=3&repetitionPenalty=1.2&minTokens=3", raw, cancellationToken);
        using var greedy = await _client.PostAsync("/caption", greedyRaw, cancellationToken);

        Assert.Equal(HttpStatusCode.OK, beams.StatusCode);
        var beamBody = await beams.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        Assert.Equal(2, beamBody.GetProperty("alternatives").GetArrayLength());
        Assert.All(beamBody.GetProperty("alternatives").EnumerateArray(), a => Assert.True(a.GetProperty("score").GetDouble() < 0));
        var greedyBody = await greedy.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        Assert.False(greedyBody.GetProperty("alternatives")[0].TryGetProperty("score", out _));
    }

    [Fact]
    public async Task SeededSamplingIsReproducible()
    {
        var cancellationToken = TestTimeout.Default();
        const string Url = "/caption?temperature=1.5&topK=20&topP=0.95&seed=1234&maxTokens=12";

        var captions = new List<string?>();
        for (var i = 0; i < 2; i++)
        {
            using var raw = TestRequests.RawImage(TestImages.ShapeWorldPng);
            using var response = await _client.PostAsync(Url, raw, cancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            captions.Add((await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("caption").GetString());
        }

        Assert.Equal(captions[0], captions[1]);
    }

    /// <summary>Exactly the contract's property names: clients and acceptance checks rely on them.</summary>
    private static void AssertCaptionShape(JsonElement body)
    {
        AssertProperties(body, "caption", "confidence", "alternatives", "imageDistance", "warnings", "model", "timings");
        foreach (var alternative in body.GetProperty("alternatives").EnumerateArray())
        {
            AssertProperties(alternative, "caption", "logProb");
        }

        AssertProperties(body.GetProperty("model"), "name", "version");
        AssertProperties(body.GetProperty("timings"), "queueMs", "captionQueueMs", "preprocessMs", "inferenceMs", "totalMs");
    }

    internal static void AssertProperties(JsonElement element, params string[] names) =>
        Assert.Equal(names.Order(StringComparer.Ordinal), element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
}
