using CaptionService.Api.Models;
using CaptionService.Inference;

namespace CaptionService.Api.Tests.Models;

/// <summary>An engine that runs no model: its captions say its version, and a test may hold them open.</summary>
internal sealed class FakeEngine(string version, bool failsWarmUp = false) : ICaptionEngine, IAsyncDisposable
{
    private readonly TaskCompletionSource _releaseCaptions = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _warm;

    public TaskCompletionSource<bool> CaptionStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool HoldCaptions { get; init; }

    public bool Disposed { get; private set; }

    public ModelInfo Model { get; } = new(
        new ModelIdentity("fake", version), "CPU", 64, 64, 10, 16, SupportsScoring: false,
        new BatchingSettings(16, TimeSpan.FromMilliseconds(2), 256, TimeSpan.FromSeconds(10), 16),
        ManifestSource: "inferred",
        ManifestJson: "{}");

    public bool IsWarm => _warm;

    public IReadOnlyList<string> StuckStages => [];

    public void ReleaseCaptions() => _releaseCaptions.TrySetResult();

    public Task WarmUpAsync(CancellationToken cancellationToken = default)
    {
        if (failsWarmUp)
        {
            throw new InvalidOperationException("warm-up exploded");
        }

        _warm = true;
        return Task.CompletedTask;
    }

    public async Task<CaptionResult> CaptionAsync(ReadOnlyMemory<byte> encodedImage, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Disposed, this);
        CaptionStarted.TrySetResult(true);
        if (HoldCaptions)
        {
            await _releaseCaptions.Task.WaitAsync(cancellationToken);
        }

        ObjectDisposedException.ThrowIf(Disposed, this);
        throw new CaptionedBy(Model.Identity.Version);
    }

    public IReadOnlyList<string> UnknownWords(string text) => [];

    public Task<ScoreResult> ScoreAsync(ReadOnlyMemory<byte> encodedImage, IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}

/// <summary>How a <see cref="FakeEngine"/> answers a caption: it has no result type of its own to build.</summary>
internal sealed class CaptionedBy(string version) : Exception("Captioned by version " + version)
{
    public string Version { get; } = version;
}

/// <summary>Hands out the engines a test queued, in order; an exception queued is thrown instead, as a broken package would.</summary>
internal sealed class QueuedEngineFactory : IModelEngineFactory
{
    private readonly Queue<Func<ICaptionEngine>> _next = new();

    public List<ModelOptions> Requests { get; } = [];

    public QueuedEngineFactory Then(ICaptionEngine engine)
    {
        _next.Enqueue(() => engine);
        return this;
    }

    public QueuedEngineFactory ThenFails(string reason)
    {
        _next.Enqueue(() => throw new ModelPackageException(reason));
        return this;
    }

    public ICaptionEngine Create(ModelOptions model)
    {
        Requests.Add(model);
        return _next.Dequeue()();
    }
}
