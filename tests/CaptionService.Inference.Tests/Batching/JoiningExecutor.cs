using CaptionService.Inference.Batching;

namespace CaptionService.Inference.Tests.Batching;

/// <summary>
/// A continuous-batching executor driven by the test one step at a time. A payload's last digit is
/// the slots it occupies. Each step first takes what may join, then answers the oldest running
/// request (payload × 10); it returns when nothing runs.
/// </summary>
internal sealed class JoiningExecutor : IJoinableBatchExecutor<int, int>
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>One release per step.</summary>
    public SemaphoreSlim Steps { get; } = new(0);

    public Task FirstBatchStarted => _started.Task;

    /// <summary>Per step, the payloads that joined.</summary>
    public List<int[]> Joined { get; } = [];

    /// <summary>Per call, the payloads it started with.</summary>
    public List<int[]> Batches { get; } = [];

    public int SlotsOf(int payload) => payload % 10;

    public bool JoinsByDefault { get; init; }

    /// <summary>What it asks the joiner for: the whole queue or nothing (cohorts), or what fits (merged rows).</summary>
    public bool WholeQueueOnly { get; init; } = true;

    /// <summary>Without joining: the same steps, with nothing ever joining.</summary>
    public ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<int, int>> batch, CancellationToken cancellationToken) =>
        ExecuteAsync(batch, NoJoiner.Instance, cancellationToken);

    public async ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<int, int>> batch, IBatchJoiner<int, int> joiner, CancellationToken cancellationToken)
    {
        Batches.Add([.. batch.Select(r => r.Payload)]);
        var running = batch.ToList();
        _started.TrySetResult();
        while (running.Count > 0)
        {
            await Steps.WaitAsync(cancellationToken);
            var joined = joiner.TakeWaiting(running.Sum(r => SlotsOf(r.Payload)), WholeQueueOnly);
            Joined.Add([.. joined.Select(r => r.Payload)]);
            running.AddRange(joined);
            running[0].Complete(running[0].Payload * 10);
            running.RemoveAt(0);
        }
    }

    private sealed class NoJoiner : IBatchJoiner<int, int>
    {
        public static NoJoiner Instance { get; } = new();

        public IReadOnlyList<BatchRequest<int, int>> TakeWaiting(int slotsInUse, bool wholeQueueOnly) => [];
    }
}
