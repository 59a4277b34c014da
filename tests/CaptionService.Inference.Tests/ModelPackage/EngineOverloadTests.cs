using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>Overload answers through the public engine: deadlines and full queues.</summary>
public sealed class EngineOverloadTests : IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly byte[] _image = File.ReadAllBytes(Path.Combine(TestPaths.Fixtures, "parity", "shapeworld-fusion", "image-0.png"));

    public void Dispose() => _timeout.Dispose();

    private static CaptionEngine Create(BatchingOptions batching) => CaptionEngine.Create(
        new ModelOptions { Path = TestPaths.DefaultPackage, ExecutionProvider = ExecutionProviderKind.Cpu },
        batching, new PreprocessingOptions(), NullLoggerFactory.Instance);

    [Fact]
    public async Task ARequestThatCannotStartBeforeItsTimeoutGetsDeadlineExceeded()
    {
        await using var engine = Create(new BatchingOptions { RequestTimeout = TimeSpan.FromMilliseconds(1), MaxQueueDelay = TimeSpan.FromMilliseconds(50) });

        var ex = await Assert.ThrowsAsync<InferenceRejectedException>(() => engine.CaptionAsync(_image, GenerationOptions.Greedy, _timeout.Token));

        Assert.Equal(RejectionReason.DeadlineExceeded, ex.Reason);
    }

    [Fact]
    public async Task WhenTheQueueIsFullRequestsAreRefusedAtOnceWithRetryAfter()
    {
        await using var engine = Create(new BatchingOptions { MaxBatchSize = 1, MaxQueueSize = 1, MaxQueueDelay = TimeSpan.Zero });

        var attempts = await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            try
            {
                await engine.CaptionAsync(_image, GenerationOptions.Greedy, _timeout.Token);
                return null;
            }
            catch (InferenceRejectedException ex)
            {
                return ex;
            }
        }));

        var refused = attempts.OfType<InferenceRejectedException>().ToArray();
        Assert.NotEmpty(refused);
        Assert.All(refused, ex => Assert.Equal(RejectionReason.QueueFull, ex.Reason));
        Assert.All(refused, ex => Assert.NotNull(ex.RetryAfter));
        Assert.Contains(attempts, a => a is null);
    }

    [Fact]
    public async Task ACancelledRequestEndsAsCancelled()
    {
        await using var engine = Create(new BatchingOptions());
        using var client = new CancellationTokenSource();
        await client.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.CaptionAsync(_image, GenerationOptions.Greedy, client.Token));
    }
}
