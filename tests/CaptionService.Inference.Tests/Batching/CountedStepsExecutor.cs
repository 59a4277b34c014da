using CaptionService.Inference.Batching;

namespace CaptionService.Inference.Tests.Batching;

/// <summary>
/// A continuous-batching executor that merges rows, driven by the test one step at a time. A
/// payload's last digit is the slots it occupies and its tens digit the steps it decodes; slots
/// above one make it a beam search (<see cref="IsBeamSearch"/>). Each step first takes what may
/// join, then advances every running request and answers those done (payload × 10); it returns
/// when nothing runs. It waits for a step no longer than the test's token allows (the batcher
/// passes it none), so that a failed assertion ends the test instead of hanging its disposal.
/// </summary>
internal sealed class CountedStepsExecutor(CancellationToken testTimeout) : IJoinableBatchExecutor<int, int>
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>One release per step.</summary>
    public SemaphoreSlim Steps { get; } = new(0);

    /// <summary>Released once per step, after the step has answered what finished.</summary>
    public SemaphoreSlim StepsDone { get; } = new(0);

    public Task FirstBatchStarted => _started.Task;

    /// <summary>Per step, the payloads that joined.</summary>
    public List<int[]> Joined { get; } = [];

    /// <summary>Per call, the payloads it started with.</summary>
    public List<int[]> Batches { get; } = [];

    public bool JoinsByDefault => true;

    public static bool IsBeamSearch(int payload) => payload % 10 > 1;

    public int SlotsOf(int payload) => payload % 10;

    public ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<int, int>> batch, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("The batcher joins requests into this executor's batches.");

    public async ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<int, int>> batch, IBatchJoiner<int, int> joiner, CancellationToken cancellationToken)
    {
        Batches.Add([.. batch.Select(r => r.Payload)]);
        var running = batch.Select(r => (Request: r, Left: r.Payload / 10 % 10)).ToList();
        _started.TrySetResult();
        while (running.Count > 0)
        {
            await Steps.WaitAsync(testTimeout);
            var joined = joiner.TakeWaiting(running.Sum(r => SlotsOf(r.Request.Payload)), wholeQueueOnly: false);
            Joined.Add([.. joined.Select(r => r.Payload)]);
            running.AddRange(joined.Select(r => (Request: r, Left: r.Payload / 10 % 10)));
            running = [.. running.Select(r => (r.Request, Left: r.Left - 1))];
            foreach (var (request, _) in running.Where(r => r.Left == 0))
            {
                request.Complete(request.Payload * 10);
            }

            running.RemoveAll(r => r.Left == 0);
            StepsDone.Release();
        }
    }
}
