using CaptionService.Inference.Batching;

namespace CaptionService.Inference.Tests.Batching;

/// <summary>An executor that records each batch's payloads, answers payload × 10, and can be held closed to let a queue build up.</summary>
internal sealed class RecordingExecutor : IBatchExecutor<int, int>
{
    private readonly Lock _gate = new();
    private readonly List<int[]> _batches = [];
    private readonly TaskCompletionSource _firstBatchStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>While incomplete, every batch waits on it before answering.</summary>
    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task FirstBatchStarted => _firstBatchStarted.Task;

    public IReadOnlyList<int[]> Batches
    {
        get
        {
            lock (_gate)
            {
                return [.. _batches];
            }
        }
    }

    public static RecordingExecutor Open()
    {
        var executor = new RecordingExecutor();
        executor.Gate.SetResult();
        return executor;
    }

    public async ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<int, int>> batch, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _batches.Add([.. batch.Select(r => r.Payload)]);
        }

        _firstBatchStarted.TrySetResult();
        await Gate.Task;
        foreach (var request in batch)
        {
            request.Complete(request.Payload * 10);
        }
    }
}
