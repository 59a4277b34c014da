using System.Net;
using CaptionService.Api.Models;
using CaptionService.Api.Tests.Infrastructure;
using CaptionService.Inference;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// Readiness waits for warm-up. The real engine warms up too fast to observe the gap, so these
/// tests hold warm-up open with an engine whose warm-up the test releases.
/// </summary>
public sealed class WarmUpGateTests
{
    [Fact]
    public async Task UntilWarmUpEndsReadinessIs503AndRequestsGet503WhileLivenessIs200()
    {
        var cancellationToken = TestTimeout.Default();
        var engine = new HeldWarmUpEngine();
        await using var factory = new HeldWarmUpFactory(engine);
        using var client = factory.CreateClient();

        using (var ready = await client.GetAsync("/health/ready", cancellationToken))
        using (var live = await client.GetAsync("/health/live", cancellationToken))
        using (var caption = await client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            await ProblemAssertions.AssertProblemAsync(caption, HttpStatusCode.ServiceUnavailable, "warming up");
            ProblemAssertions.AssertRetryAfter(caption);
            Assert.Equal(0, engine.CaptionCalls);
        }

        engine.ReleaseWarmUp();
        using var client2 = await factory.CreateReadyClientAsync(cancellationToken);
        using var afterWarmUp = await client2.GetAsync("/health/ready", cancellationToken);
        Assert.Equal(HttpStatusCode.OK, afterWarmUp.StatusCode);
    }

    private sealed class HeldWarmUpFactory(ICaptionEngine engine) : CaptionServiceFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IModelEngineFactory>(new HeldEngineFactory(engine)));
        }
    }

    private sealed class HeldEngineFactory(ICaptionEngine engine) : IModelEngineFactory
    {
        public ICaptionEngine Create(ModelOptions model) => engine;
    }

    /// <summary>An engine that is cold until the test says so; it never runs a model.</summary>
    private sealed class HeldWarmUpEngine : ICaptionEngine
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _captionCalls;

        public int CaptionCalls => Volatile.Read(ref _captionCalls);

        public ModelInfo Model { get; } = new(
            new ModelIdentity("held", "0"), "CPU", 64, 64, 10, 16, SupportsScoring: false,
            new BatchingSettings(16, TimeSpan.FromMilliseconds(2), 256, TimeSpan.FromSeconds(10), 16),
            ManifestSource: "inferred",
            ManifestJson: "{}");

        public bool IsWarm => _release.Task.IsCompleted;

        public IReadOnlyList<string> StuckStages => [];

        public void ReleaseWarmUp() => _release.TrySetResult();

        public Task WarmUpAsync(CancellationToken cancellationToken = default) => _release.Task.WaitAsync(cancellationToken);

        public Task<CaptionResult> CaptionAsync(ReadOnlyMemory<byte> encodedImage, GenerationOptions options, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _captionCalls);
            throw new InvalidOperationException("The admission filter must not let a request reach a cold engine.");
        }

        public IReadOnlyList<string> UnknownWords(string text) => [];

        public Task<ScoreResult> ScoreAsync(ReadOnlyMemory<byte> encodedImage, IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The admission filter must not let a request reach a cold engine.");
    }
}
