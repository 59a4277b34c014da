using System.Net;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.EndToEnd;

/// <summary>The real server process: start-up failures, JSON logs, and Kestrel's handling of oversized bodies.</summary>
[Collection(ServerProcessGroup.Name)]
public sealed class ServerProcessTests
{
    [Fact]
    public async Task MissingModelPackageStopsTheProcessWithOneMessageNamingIt()
    {
        var missing = Path.Combine(Path.GetTempPath(), "captionservice-tests", Guid.NewGuid().ToString("N"), "no-such-package");
        await using var server = ServerProcess.Start(new Dictionary<string, string> { ["CaptionService__Model__Path"] = missing });

        var exitCode = await server.WaitForExitAsync(TestTimeout.After(TimeSpan.FromSeconds(60)));

        Assert.NotEqual(0, exitCode);
        AssertOneStartupFailure(server, missing);
    }

    [Fact]
    public async Task CorruptGraphFileStopsTheProcessWithOneMessageNamingTheFile()
    {
        var package = CopyOfDefaultPackage();
        try
        {
            var encoder = Path.Combine(package, "onnx", "encoder_model.onnx");
            await File.WriteAllBytesAsync(encoder, (await File.ReadAllBytesAsync(encoder))[..1000]);
            await using var server = ServerProcess.Start(new Dictionary<string, string> { ["CaptionService__Model__Path"] = package });

            var exitCode = await server.WaitForExitAsync(TestTimeout.After(TimeSpan.FromSeconds(60)));

            Assert.NotEqual(0, exitCode);
            AssertOneStartupFailure(server, "encoder_model.onnx");
        }
        finally
        {
            Directory.Delete(package, recursive: true);
        }
    }

    [Theory]
    [InlineData("CaptionService__Batching__MaxBatchSize", "0", "MaxBatchSize")]
    [InlineData("CaptionService__Batching__MaxBatchSize", "many", "MaxBatchSize")]
    [InlineData("CaptionService__Shutdown__DrainTimeout", "forever", "DrainTimeout")]
    [InlineData("CaptionService__Batching__BatchTimeout", "02:00:00", "BatchTimeout")]
    [InlineData("CaptionService__Management__Port", "70000", "Port")]
    [InlineData("CaptionService__Management__Port", "metrics", "Port")]
    [InlineData("CaptionService__Shutdown__DrainTimeout", "01:00:00", "DrainTimeout")]
    [InlineData("CaptionService__Logging__Format", "Xml", "Format")]
    [InlineData("CaptionService__Security__ApiKeys__0", "a-plain-key-not-its-hash", "SHA-256")]
    [InlineData("CaptionService__Security__ApiKeysFile", "/no/such/api-keys", "ApiKeysFile")]
    public async Task InvalidSettingStopsTheProcessNamingIt(string variable, string value, string setting)
    {
        await using var server = ServerProcess.Start(new Dictionary<string, string> { [variable] = value });

        var exitCode = await server.WaitForExitAsync(TestTimeout.After(TimeSpan.FromSeconds(60)));

        Assert.NotEqual(0, exitCode);
        AssertOneStartupFailure(server, setting);
    }

    [Fact]
    public async Task JsonLogsCarryOneRequestEventWithRouteStatusElapsedAndTraceId()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(2));
        await using var server = ServerProcess.Start(new Dictionary<string, string> { ["CaptionService__Logging__Format"] = "Json" });
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        await server.WaitUntilReadyAsync(client, cancellationToken);

        using (var response = await client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var events = await WaitForAsync(
            () => server.OutputLines.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList(),
            events => events.Any(IsCaptionRequestEvent),
            cancellationToken);

        Assert.All(server.OutputLines, line => Assert.StartsWith("{", line, StringComparison.Ordinal));
        var request = events.Single(IsCaptionRequestEvent);
        Assert.Equal("POST", request.GetProperty("RequestMethod").GetString());
        Assert.Equal(200, request.GetProperty("StatusCode").GetInt32());
        Assert.True(request.GetProperty("Elapsed").GetDouble() > 0);
        Assert.Equal(32, request.GetProperty("TraceId").GetString()!.Length);
        Assert.False(string.IsNullOrEmpty(request.GetProperty("@t").GetString()));
    }

    [Fact]
    public async Task AspNetCoreUrlsOverridesTheDefaultAddress()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(2));
        await using var server = ServerProcess.Start(urlsFromEnvironment: true);
        using var client = new HttpClient();

        await server.WaitUntilReadyAsync(client, cancellationToken);

        Assert.Contains(server.OutputLines, l => l.Contains($"Now listening on: {server.BaseAddress.ToString().TrimEnd('/')}", StringComparison.Ordinal));
        Assert.DoesNotContain(server.OutputLines, l => l.Contains("localhost:8080", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task KestrelAnswers413WithoutReadingTheOversizedBody(bool declareLength)
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(2));
        await using var server = ServerProcess.Start(new Dictionary<string, string> { ["CaptionService__Preprocessing__MaxImageBytes"] = "100000" });
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        await server.WaitUntilReadyAsync(client, cancellationToken);

        const long Length = 200L * 1024 * 1024;
        using var body = new LazyBodyContent(Length, declareLength, "image/png");
        HttpResponseMessage? response = null;
        try
        {
            response = await client.PostAsync("/caption", body, cancellationToken);
        }
        catch (HttpRequestException)
        {
            // The server may close the connection on the unread upload right after its answer.
        }

        using (response)
        {
            if (response is not null)
            {
                await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
            }
        }

        Assert.True(body.BytesSent < Length / 4, $"{body.BytesSent} of {Length} bytes were sent before the server refused.");

        // The refusal left the server healthy.
        using var next = await client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    private static bool IsCaptionRequestEvent(JsonElement logEvent) =>
        logEvent.TryGetProperty("RequestPath", out var path) && path.GetString() == "/caption"
        && logEvent.TryGetProperty("Route", out var route) && route.GetString() == "/caption";

    /// <summary>Exactly one critical line names the cause; no stack trace follows it.</summary>
    private static void AssertOneStartupFailure(ServerProcess server, string mentions)
    {
        var failures = server.OutputLines.Where(l => l.Contains("Cannot start", StringComparison.Ordinal)).ToList();
        Assert.True(failures.Count == 1, "Expected one 'Cannot start' line:\n" + server.Output);
        Assert.Contains(mentions, failures[0], StringComparison.Ordinal);
        Assert.DoesNotContain(server.OutputLines, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
        Assert.DoesNotContain(server.OutputLines, l => l.Contains("Unhandled exception", StringComparison.Ordinal));
    }

    private static string CopyOfDefaultPackage()
    {
        var source = Path.Combine(AppContext.BaseDirectory, "models", "shapeworld-fusion");
        var target = Path.Combine(Path.GetTempPath(), "captionservice-tests", Guid.NewGuid().ToString("N"));
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }

        return target;
    }

    private static async Task<T> WaitForAsync<T>(Func<T> read, Func<T, bool> done, CancellationToken cancellationToken)
    {
        while (true)
        {
            var value = read();
            if (done(value))
            {
                return value;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }
}
