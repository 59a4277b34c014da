using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>GET /model, the health probes and GET /metrics on the real default package.</summary>
[Collection(RealModelServerGroup.Name)]
public sealed class ModelAndHealthTests(RealModelServer server)
{
    private static readonly string[] ExecutionProviders = ["CPU", "CUDA"];

    private readonly HttpClient _client = server.Client;

    [Fact]
    public async Task ModelDescribesTheBundledPackageAndTheBatchingSettings()
    {
        var model = await _client.GetFromJsonAsync<JsonElement>("/model", TestTimeout.Default());
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(
            Path.Combine(RepositoryPaths.RepositoryRoot, "models", "shapeworld-fusion", "caption_service.json")));

        Assert.Equal(manifest.RootElement.GetProperty("name").GetString(), model.GetProperty("name").GetString());
        Assert.Equal(manifest.RootElement.GetProperty("version").GetString(), model.GetProperty("version").GetString());
        var provider = model.GetProperty("executionProvider").GetString()!;
        Assert.Contains(provider.ToUpperInvariant(), ExecutionProviders);
        // DecoderState Auto (the default) resolves to the device with CUDA and to host memory on CPU.
        Assert.Equal(provider == "cuda" ? "device" : "host", model.GetProperty("decoderState").GetString());
        Assert.True(model.GetProperty("inputSize").GetProperty("height").GetInt32() > 0);
        Assert.True(model.GetProperty("inputSize").GetProperty("width").GetInt32() > 0);

        var vocabularyLines = File.ReadLines(Path.Combine(RepositoryPaths.RepositoryRoot, "models", "shapeworld-fusion", "vocab.txt")).Count();
        Assert.Equal(vocabularyLines, model.GetProperty("vocabularySize").GetInt32());
        Assert.True(model.GetProperty("supportsScoring").GetBoolean());

        var batching = model.GetProperty("batching");
        Assert.Equal(16, batching.GetProperty("maxBatchSize").GetInt32());
        Assert.Equal(2, batching.GetProperty("maxQueueDelayMs").GetDouble());
        Assert.Equal(256, batching.GetProperty("maxQueueSize").GetInt32());
        Assert.Equal(10_000, batching.GetProperty("requestTimeoutMs").GetDouble());
        Assert.Equal(2_000, batching.GetProperty("beamSearchDeferralMs").GetDouble());
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task ProbesAnswerHealthyOnceWarm(string path)
    {
        var cancellationToken = TestTimeout.Default();
        using var response = await _client.GetAsync(path, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task MetricsExposeRequestsByEndpointAndStatusAndTheEngineInstruments()
    {
        var cancellationToken = TestTimeout.Default();
        using (var caption = await _client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, caption.StatusCode);
        }

        // Measurements reach the exporter from the engine's threads; a scrape may come before them.
        var metrics = string.Empty;
        for (var attempt = 0; attempt < 100 && !metrics.Contains("captionservice_batch_size_bucket", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            using var response = await _client.GetAsync("/metrics", cancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            metrics = await response.Content.ReadAsStringAsync(cancellationToken);
        }

        var requestLines = metrics.Split('\n').Where(l => l.StartsWith("http_requests_received_total{", StringComparison.Ordinal)).ToList();
        Assert.Contains(requestLines, l => l.Contains("code=\"200\"", StringComparison.Ordinal) && l.Contains("endpoint=\"/caption\"", StringComparison.Ordinal));

        // Each engine metric is named after its meter and instrument.
        const string Meter = "captionservice_";
        var lines = metrics.Split('\n');

        // HELP texts are sentences for people: no .NET type names such as "(Histogram`1)".
        var help = lines.Where(l => l.StartsWith("# HELP ", StringComparison.Ordinal)).ToList();
        Assert.Contains(help, l => l.StartsWith($"# HELP {Meter}queue_time Time a request waited", StringComparison.Ordinal));
        Assert.All(help, l => Assert.DoesNotMatch(@"`\d|\((Histogram|Counter|Gauge|ObservableGauge|UpDownCounter)\b", l));
        foreach (var histogram in new[] { "queue_time", "batch_size", "inference_time", "decoder_step_time" })
        {
            Assert.Contains(lines, l => l.StartsWith($"{Meter}{histogram}_bucket{{", StringComparison.Ordinal) && l.Contains("stage=\"caption\"", StringComparison.Ordinal));
        }

        Assert.Contains(lines, l => l.StartsWith($"{Meter}queue_depth{{stage=\"caption\",model=\"shapeworld-fusion\"}}", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"{Meter}model_info{{", StringComparison.Ordinal) && (l.Contains("provider=\"cpu\"", StringComparison.Ordinal) || l.Contains("provider=\"cuda\"", StringComparison.Ordinal)));
    }
}
