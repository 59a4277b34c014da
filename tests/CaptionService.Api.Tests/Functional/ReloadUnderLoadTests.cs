using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// Hot reload under load: 16 clients caption without pause while the package of the model they
/// use is swapped 20 times between two valid versions (half by changing its files, half by
/// <c>POST /v1/models/{name}/reload</c>), then turned corrupt twice. Not one request may fail,
/// the served version must follow the swaps, and no corrupt version may ever serve.
/// </summary>
public sealed class ReloadUnderLoadTests(ITestOutputHelper output) : IDisposable
{
    private const int Clients = 16;
    private const int Swaps = 20;
    private const string Model = "vit";

    private readonly TestModelRepository _repository = new TestModelRepository().With(Model, TestModelRepository.CaptioningFixture);

    public void Dispose() => _repository.Dispose();

    [Fact]
    public async Task TwentySwapsUnderConcurrency16FailNoRequestAndACorruptVersionNeverServes()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromSeconds(120));
        await using var factory = new CaptionServiceFactory(new Dictionary<string, string?>
        {
            ["CaptionService:Models:Repository"] = _repository.Root,
            ["CaptionService:Models:ReloadDebounce"] = "00:00:00.200",
            ["CaptionService:Models:PollInterval"] = "00:00:00",
        });
        using var client = await factory.CreateReadyClientAsync(cancellationToken);
        var image = File.ReadAllBytes(RepositoryPaths.ShapeWorldImage);

        using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var failures = new ConcurrentQueue<string>();
        var served = new ConcurrentDictionary<string, int>();
        var load = Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                using var response = await client.PostAsync($"/v1/models/{Model}/caption", TestRequests.RawImage(image), CancellationToken.None);
                var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Enqueue($"{(int)response.StatusCode}: {body}");
                    continue;
                }

                var version = JsonDocument.Parse(body).RootElement.GetProperty("model").GetProperty("version").GetString()!;
                served.AddOrUpdate(version, 1, (_, n) => n + 1);
            }
        })).ToList();

        var swapTimes = new List<TimeSpan>();
        var started = Stopwatch.GetTimestamp();
        for (var swap = 1; swap <= Swaps; swap++)
        {
            var version = swap % 2 == 1 ? "0.0.2" : "0.0.1";
            var swapStarted = Stopwatch.GetTimestamp();
            _repository.SetVersion(Model, version);
            if (swap % 4 < 2)
            {
                // By file change: the watcher notices, waits out the debounce, and swaps.
                await WaitForVersionAsync(client, version, cancellationToken);
            }
            else
            {
                using var reload = await client.PostAsync($"/v1/models/{Model}/reload", content: null, cancellationToken);
                Assert.Equal(HttpStatusCode.OK, reload.StatusCode);
                Assert.Equal(version, (await reload.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("version").GetString());
            }

            swapTimes.Add(Stopwatch.GetElapsedTime(swapStarted));
        }

        var swapsElapsed = Stopwatch.GetElapsedTime(started);
        var servingVersion = Swaps % 2 == 1 ? "0.0.2" : "0.0.1";
        await AssertCorruptVersionsAreRefusedAsync(client, servingVersion, cancellationToken);

        await stopLoad.CancelAsync();
        await Task.WhenAll(load);

        var status = await client.GetFromJsonAsync<JsonElement>($"/v1/models/{Model}", cancellationToken);
        var requests = served.Values.Sum();
        output.WriteLine(
            $"{Swaps} swaps in {swapsElapsed.TotalSeconds:F1} s under {Clients} clients: {requests} requests, {failures.Count} failed; " +
            $"per swap (change to serving) mean {swapTimes.Average(t => t.TotalMilliseconds):F0} ms, max {swapTimes.Max(t => t.TotalMilliseconds):F0} ms; " +
            $"served {string.Join(", ", served.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}"))}; reloads {status.GetProperty("reloads").GetInt32()}");
        Assert.True(failures.IsEmpty, $"{failures.Count} of {requests + failures.Count} requests failed, first: {failures.FirstOrDefault()}");
        Assert.Equal(["0.0.1", "0.0.2"], served.Keys.Order());
        Assert.Equal(servingVersion, status.GetProperty("version").GetString());
        // At least one reload per swap: a watcher's reload may also pick up a change before the POST that follows it.
        Assert.InRange(status.GetProperty("reloads").GetInt32(), Swaps, int.MaxValue);
        Assert.DoesNotContain(served.Keys, v => v.StartsWith("corrupt", StringComparison.Ordinal));
        await AssertOnlyTheServingVersionIsReportedAsync(client, servingVersion, cancellationToken);
    }

    /// <summary>The old versions were disposed once their requests ended: only the serving one's model info remains.</summary>
    private static async Task AssertOnlyTheServingVersionIsReportedAsync(HttpClient client, string servingVersion, CancellationToken cancellationToken)
    {
        List<string> infos = [];
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var metrics = await client.GetStringAsync("/metrics", cancellationToken);
            infos = [.. metrics.Split('\n').Where(l => l.StartsWith("captionservice_model_info{", StringComparison.Ordinal) && l.Contains($"model=\"{Model}\"", StringComparison.Ordinal))];
            if (infos.Count == 1)
            {
                break;
            }

            await Task.Delay(50, cancellationToken);
        }

        Assert.Contains($"version=\"{servingVersion}\"", Assert.Single(infos), StringComparison.Ordinal);
    }

    /// <summary>A truncated graph, and a graph with changed bytes, each under a manifest naming a new version: refused, shown, and the old version serves on.</summary>
    private async Task AssertCorruptVersionsAreRefusedAsync(HttpClient client, string servingVersion, CancellationToken cancellationToken)
    {
        var encoder = Path.Combine(_repository.PackageOf(Model), "onnx", "encoder_model.onnx");
        var decoder = Path.Combine(_repository.PackageOf(Model), "onnx", "decoder_model_merged.onnx");
        var goodEncoder = File.ReadAllBytes(encoder);
        var goodDecoder = File.ReadAllBytes(decoder);

        _repository.SetVersion(Model, "corrupt-truncated");
        _repository.ReplaceFile(encoder, goodEncoder[..(goodEncoder.Length / 2)]);
        await AssertRefusedAsync(client, servingVersion, "encoder_model.onnx", cancellationToken);

        _repository.ReplaceFile(encoder, goodEncoder);
        var flipped = goodDecoder.ToArray();
        flipped[flipped.Length / 2] ^= 0xFF;
        _repository.SetVersion(Model, "corrupt-bytes");
        _repository.ReplaceFile(decoder, flipped);
        await AssertRefusedAsync(client, servingVersion, "decoder_model_merged.onnx", cancellationToken);

        _repository.ReplaceFile(decoder, goodDecoder);
        _repository.SetVersion(Model, servingVersion);
    }

    private async Task AssertRefusedAsync(HttpClient client, string servingVersion, string file, CancellationToken cancellationToken)
    {
        using var reload = await client.PostAsync($"/v1/models/{Model}/reload", content: null, cancellationToken);
        var problem = await ProblemAssertions.AssertProblemAsync(reload, HttpStatusCode.UnprocessableEntity, file);
        Assert.Contains($"version {servingVersion} keeps serving", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var status = await client.GetFromJsonAsync<JsonElement>($"/v1/models/{Model}", cancellationToken);
        Assert.Equal(servingVersion, status.GetProperty("version").GetString());
        Assert.Equal("ready", status.GetProperty("state").GetString());
        Assert.Contains(file, status.GetProperty("lastReloadError").GetString(), StringComparison.Ordinal);
        output.WriteLine($"refused: {status.GetProperty("lastReloadError").GetString()}");
    }

    private static async Task WaitForVersionAsync(HttpClient client, string version, CancellationToken cancellationToken)
    {
        while ((await client.GetFromJsonAsync<JsonElement>($"/v1/models/{Model}", cancellationToken)).GetProperty("version").GetString() != version)
        {
            await Task.Delay(20, cancellationToken);
        }
    }
}
