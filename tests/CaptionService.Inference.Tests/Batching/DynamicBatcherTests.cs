using System.Diagnostics;
using CaptionService.Inference.Batching;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.Batching;

public sealed class DynamicBatcherTests : IDisposable
{
    private static readonly long s_noDeadline = long.MaxValue;

    /// <summary>Every call gets this token, so that a hung batcher fails the test instead of the run.</summary>
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    public void Dispose() => _timeout.Dispose();

    private static DynamicBatcher<int, int> Create(RecordingExecutor executor, int maxBatchSize = 4, TimeSpan? delay = null, int maxQueueSize = 100) =>
        new("test", new BatcherSettings(maxBatchSize, delay ?? TimeSpan.FromSeconds(30), maxQueueSize), executor, NullLogger.Instance);

    private static long DeadlineIn(TimeSpan timeout) => Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);

    [Fact]
    public async Task ABatchClosesAsSoonAsItIsFullWithoutWaitingForTheDelay()
    {
        var executor = RecordingExecutor.Open();
        await using var batcher = Create(executor, maxBatchSize: 3, delay: TimeSpan.FromSeconds(30));

        var started = Stopwatch.GetTimestamp();
        var results = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => batcher.EnqueueAsync(i, s_noDeadline, _timeout.Token)));

        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5));
        Assert.Equal([[1, 2, 3]], executor.Batches);
        Assert.Equal([10, 20, 30], results.Select(r => r.Value));
        Assert.All(results, r => Assert.Equal(3, r.BatchSize));
    }

    [Fact]
    public async Task BatchesRunOnTheStagesOwnThreadNotOnThePool()
    {
        var executor = new ThreadRecordingExecutor();
        await using var batcher = new DynamicBatcher<int, int>("encode", new BatcherSettings(1, TimeSpan.Zero, 10), executor, NullLogger.Instance);

        await Task.WhenAll(Enumerable.Range(1, 3).Select(i => batcher.EnqueueAsync(i, s_noDeadline, _timeout.Token)));

        Assert.Equal(3, executor.Threads.Count);
        Assert.All(executor.Threads, thread => Assert.False(thread.IsThreadPoolThread));
        Assert.Single(executor.Threads.Distinct());
        Assert.Contains("encode", executor.Threads[0].Name);
    }

    [Fact]
    public async Task APartialBatchClosesWhenItsOldestRequestHasWaitedTheDelay()
    {
        var executor = RecordingExecutor.Open();
        var delay = TimeSpan.FromMilliseconds(200);
        await using var batcher = Create(executor, maxBatchSize: 8, delay: delay);

        var started = Stopwatch.GetTimestamp();
        var first = batcher.EnqueueAsync(1, s_noDeadline, _timeout.Token);
        var second = batcher.EnqueueAsync(2, s_noDeadline, _timeout.Token);
        await Task.WhenAll(first, second);

        var elapsed = Stopwatch.GetElapsedTime(started);
        Assert.True(elapsed >= delay - TimeSpan.FromMilliseconds(20), $"closed after {elapsed.TotalMilliseconds} ms");
        Assert.Equal([[1, 2]], executor.Batches);
        Assert.True((await first).QueueTime >= delay - TimeSpan.FromMilliseconds(20));
    }

    [Fact]
    public async Task ARequestWhoseDeadlinePassesInTheQueueIsAnsweredDeadlineExceededAndNeverRuns()
    {
        var executor = new RecordingExecutor();
        await using var batcher = Create(executor, maxBatchSize: 1, delay: TimeSpan.Zero);
        var blocker = batcher.EnqueueAsync(1, s_noDeadline, _timeout.Token);
        await executor.FirstBatchStarted;

        var late = batcher.EnqueueAsync(2, DeadlineIn(TimeSpan.FromMilliseconds(50)), _timeout.Token);

        var ex = await Assert.ThrowsAsync<InferenceRejectedException>(() => late);
        Assert.Equal(RejectionReason.DeadlineExceeded, ex.Reason);
        Assert.Equal(0, batcher.QueueDepth);
        executor.Gate.SetResult();
        await blocker;
        Assert.Equal([[1]], executor.Batches);
    }

    [Fact]
    public async Task ACancelledRequestIsDroppedAtOnceAndNeverRuns()
    {
        var executor = new RecordingExecutor();
        await using var batcher = Create(executor, maxBatchSize: 1, delay: TimeSpan.Zero);
        var blocker = batcher.EnqueueAsync(1, s_noDeadline, _timeout.Token);
        await executor.FirstBatchStarted;
        using var client = new CancellationTokenSource();

        var abandoned = batcher.EnqueueAsync(2, s_noDeadline, client.Token);
        var kept = batcher.EnqueueAsync(3, s_noDeadline, _timeout.Token);
        await client.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        Assert.Equal(1, batcher.QueueDepth);
        executor.Gate.SetResult();
        Assert.Equal(30, (await kept).Value);
        await blocker;
        Assert.Equal([[1], [3]], executor.Batches);
    }

    [Fact]
    public async Task AFullQueueRefusesAtOnceWithRetryAfter()
    {
        var executor = new RecordingExecutor();
        await using var batcher = Create(executor, maxBatchSize: 1, delay: TimeSpan.Zero, maxQueueSize: 2);
        var running = batcher.EnqueueAsync(1, s_noDeadline, _timeout.Token);
        await executor.FirstBatchStarted;
        var queued = new[]
        {
            batcher.EnqueueAsync(2, s_noDeadline, _timeout.Token),
            batcher.EnqueueAsync(3, s_noDeadline, _timeout.Token),
        };

        var ex = await Assert.ThrowsAsync<InferenceRejectedException>(() => batcher.EnqueueAsync(4, s_noDeadline, _timeout.Token));

        Assert.Equal(RejectionReason.QueueFull, ex.Reason);
        Assert.NotNull(ex.RetryAfter);
        executor.Gate.SetResult();
        await Task.WhenAll([running, .. queued]);
        Assert.DoesNotContain(executor.Batches, batch => batch.Contains(4));
    }

    [Fact]
    public async Task UnderConcurrencyEveryRequestGetsItsOwnResultAndBatchesKeepArrivalOrder()
    {
        var executor = RecordingExecutor.Open();
        await using var batcher = Create(executor, maxBatchSize: 8, delay: TimeSpan.FromMilliseconds(2), maxQueueSize: 1000);

        var tasks = Enumerable.Range(0, 400)
            .Select(i => Task.Run(() => batcher.EnqueueAsync(i, s_noDeadline, _timeout.Token), _timeout.Token))
            .ToArray();
        var results = await Task.WhenAll(tasks);

        Assert.Equal(Enumerable.Range(0, 400).Select(i => i * 10), results.Select(r => r.Value));
        var batches = executor.Batches;
        Assert.All(batches, batch => Assert.InRange(batch.Length, 1, 8));
        Assert.Equal(400, batches.Sum(batch => batch.Length));
        Assert.Equal(Enumerable.Range(0, 400), batches.SelectMany(batch => batch).Order());
        Assert.Contains(batches, batch => batch.Length > 1);
    }

    [Fact]
    public async Task DisposingRunsWhatIsQueuedThenRefusesNewRequests()
    {
        var executor = new RecordingExecutor();
        var batcher = Create(executor, maxBatchSize: 1, delay: TimeSpan.Zero);
        var first = batcher.EnqueueAsync(1, s_noDeadline, _timeout.Token);
        await executor.FirstBatchStarted;
        var second = batcher.EnqueueAsync(2, s_noDeadline, _timeout.Token);

        var disposing = batcher.DisposeAsync().AsTask();
        var ex = await Assert.ThrowsAsync<InferenceRejectedException>(() => batcher.EnqueueAsync(3, s_noDeadline, _timeout.Token));
        executor.Gate.SetResult();
        await disposing;

        Assert.Equal(RejectionReason.Unavailable, ex.Reason);
        Assert.Equal(10, (await first).Value);
        Assert.Equal(20, (await second).Value);
    }

    [Fact]
    public async Task AnExecutorFailureFailsItsBatchButNotTheBatcher()
    {
        var executor = new ThrowingOnceExecutor();
        await using var batcher = new DynamicBatcher<int, int>("test", new BatcherSettings(1, TimeSpan.Zero, 10), executor, NullLogger.Instance);

        var failed = await Assert.ThrowsAsync<InferenceFailedException>(() => batcher.EnqueueAsync(1, s_noDeadline, _timeout.Token));
        Assert.IsType<InvalidOperationException>(failed.InnerException);
        Assert.Equal(2, (await batcher.EnqueueAsync(2, s_noDeadline, _timeout.Token)).Value);
    }

    /// <summary>
    /// Two batches run back to back and the first one's executor throws (as when ONNX Runtime
    /// fails a run): only its own requests fail, all with the same error id, logged once with
    /// the exception; the next batch's requests get their results.
    /// </summary>
    [Fact]
    public async Task AFailedBatchFailsOnlyItsOwnRequestsUnderOneErrorIdLoggedOnce()
    {
        var executor = new FailingExecutor(failWhenBatchHolds: 1);
        var logger = new CapturingLogger();
        await using var batcher = new DynamicBatcher<int, int>("test", new BatcherSettings(2, TimeSpan.FromSeconds(30), 10), executor, logger);

        var failing = new[] { batcher.EnqueueAsync(1, s_noDeadline, _timeout.Token), batcher.EnqueueAsync(2, s_noDeadline, _timeout.Token) };
        var healthy = new[] { batcher.EnqueueAsync(3, s_noDeadline, _timeout.Token), batcher.EnqueueAsync(4, s_noDeadline, _timeout.Token) };

        var errors = new List<InferenceFailedException>();
        foreach (var task in failing)
        {
            errors.Add(await Assert.ThrowsAsync<InferenceFailedException>(() => task));
        }

        Assert.Equal([30, 40], (await Task.WhenAll(healthy)).Select(result => result.Value));
        Assert.Equal([[1, 2], [3, 4]], executor.Batches);
        var errorId = Assert.Single(errors.Select(e => e.ErrorId).Distinct());
        Assert.Matches("^[0-9a-f]{16}$", errorId);
        Assert.All(errors, e => Assert.Same(executor.Thrown, e.InnerException));
        Assert.All(errors, e => Assert.Equal("test", e.Stage));
        var logged = Assert.Single(logger.Entries, entry => entry.Exception is not null);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, logged.Level);
        Assert.Same(executor.Thrown, logged.Exception);
        Assert.Contains(errorId, logged.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A batch whose executor blocks (as a hung native ONNX Runtime call would, deaf to tokens):
    /// at the batch timeout its request is answered ExecutionTimedOut instead of waiting; a request
    /// queued behind it runs once the executor returns; the result that comes too late is disposed.
    /// The stage reports itself stuck (for readiness) from the overrun until the executor returns.
    /// </summary>
    [Fact]
    public async Task ABatchThatHangsPastTheBatchTimeoutIsAnsweredThenTheStageServesAgainOnceItReturns()
    {
        using var executor = new HangingExecutor();
        var logger = new CapturingLogger();
        var bound = TimeSpan.FromMilliseconds(300);
        await using var batcher = new DynamicBatcher<int, DisposableResult>(
            "test", new BatcherSettings(1, TimeSpan.Zero, 10, BatchTimeout: bound), executor, logger);

        var started = Stopwatch.GetTimestamp();
        var hung = batcher.EnqueueAsync(1, s_noDeadline, _timeout.Token);
        await Task.Delay(bound / 3);
        Assert.False(batcher.IsStuck, "stuck before the batch timeout passed");
        var rejected = await Assert.ThrowsAsync<InferenceRejectedException>(() => hung);
        var answeredAfter = Stopwatch.GetElapsedTime(started);

        Assert.Equal(RejectionReason.ExecutionTimedOut, rejected.Reason);
        Assert.InRange(answeredAfter, bound, bound + TimeSpan.FromSeconds(5));
        Assert.True(executor.IsHanging, "the executor was still blocked when the request was answered");
        var overran = Assert.Single(logger.Entries, entry => entry.EventId.Id == 203);
        Assert.Contains("batch timeout", overran.Message, StringComparison.Ordinal);
        Assert.True(batcher.IsStuck, "not stuck while the overrun batch still ran");

        var queuedBehind = batcher.EnqueueAsync(2, s_noDeadline, _timeout.Token);
        Assert.False(queuedBehind.IsCompleted);
        executor.Release();
        Assert.Equal(2, (await queuedBehind).Value.Value);
        Assert.False(batcher.IsStuck, "still stuck after the batch returned and the next one ran");
        Assert.True(executor.LateResult!.IsDisposed, "the result nobody could take was not disposed");
        Assert.Single(logger.Entries, entry => entry.EventId.Id == 204);
    }

    /// <summary>Throws for the batch that holds a given payload, answers payload × 10 otherwise.</summary>
    private sealed class FailingExecutor(int failWhenBatchHolds) : IBatchExecutor<int, int>
    {
        private readonly List<int[]> _batches = [];

        public Exception Thrown { get; } = new InvalidOperationException("the model run failed");

        public IReadOnlyList<int[]> Batches => [.. _batches];

        public ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<int, int>> batch, CancellationToken cancellationToken)
        {
            _batches.Add([.. batch.Select(request => request.Payload)]);
            if (batch.Any(request => request.Payload == failWhenBatchHolds))
            {
                throw Thrown;
            }

            foreach (var request in batch)
            {
                request.Complete(request.Payload * 10);
            }

            return ValueTask.CompletedTask;
        }
    }

    internal sealed class DisposableResult(int value) : IDisposable
    {
        public int Value { get; } = value;

        public bool IsDisposed { get; private set; }

        public void Dispose() => IsDisposed = true;
    }

    /// <summary>Blocks its first batch synchronously until released, then answers every request.</summary>
    private sealed class HangingExecutor : IBatchExecutor<int, DisposableResult>, IDisposable
    {
        private readonly ManualResetEventSlim _release = new();
        private int _calls;
        private volatile bool _hanging;

        public bool IsHanging => _hanging;

        public DisposableResult? LateResult { get; private set; }

        public void Release() => _release.Set();

        public void Dispose() => _release.Dispose();

        public ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<int, DisposableResult>> batch, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _calls) == 1)
            {
                _hanging = true;
                _release.Wait(TimeSpan.FromSeconds(30), CancellationToken.None); // deaf to tokens, as a native call is
                _hanging = false;
                LateResult = new DisposableResult(batch[0].Payload);
                batch[0].Complete(LateResult);
                return ValueTask.CompletedTask;
            }

            foreach (var request in batch)
            {
                request.Complete(new DisposableResult(request.Payload));
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class ThrowingOnceExecutor : IBatchExecutor<int, int>
    {
        private int _calls;

        public ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<int, int>> batch, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _calls) == 1)
            {
                throw new InvalidOperationException("first batch fails");
            }

            batch[0].Complete(batch[0].Payload);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Continuous batching: requests that arrive while a batch runs join it between steps when the
    /// whole queue fits in the free MaxBatchSize slots; a queue that does not fit waits for a fresh
    /// batch, and a request that never fits beside others runs alone.
    /// </summary>
    [Fact]
    public async Task WaitingRequestsJoinARunningBatchBetweenStepsWhenTheWholeQueueFits()
    {
        var executor = new JoiningExecutor();
        await using var batcher = new DynamicBatcher<int, int>(
            "test", new BatcherSettings(MaxBatchSize: 4, MaxQueueDelay: TimeSpan.Zero, MaxQueueSize: 100, JoinRunningBatches: true), executor, NullLogger.Instance);

        var first = batcher.EnqueueAsync(12, s_noDeadline, _timeout.Token); // 2 slots
        await executor.FirstBatchStarted.WaitAsync(_timeout.Token);

        // Step 1: 21 (1 slot) fits beside 12 and joins; then 12 finishes.
        var joins = batcher.EnqueueAsync(21, s_noDeadline, _timeout.Token);
        executor.Steps.Release();
        await first.WaitAsync(_timeout.Token);

        // Step 2: 32, 41 and 95 (2 + 1 + 5 slots) do not all fit beside 21: none joins. 21 finishes,
        // the batch ends, and a fresh one takes 32 and 41 (4 slots); 95 runs alone after them.
        int[] later = [32, 41, 95];
        var expired = batcher.EnqueueAsync(61, Stopwatch.GetTimestamp(), _timeout.Token);
        var others = later.Select(p => batcher.EnqueueAsync(p, s_noDeadline, _timeout.Token)).ToArray();
        executor.Steps.Release(10);
        var results = await Task.WhenAll([first, joins, .. others]);

        Assert.Equal([[21], []], executor.Joined.Take(2));
        Assert.Equal([[12], [32, 41], [95]], executor.Batches);
        Assert.Equal([120, 210, 320, 410, 950], results.Select(r => r.Value));
        Assert.Equal([1, 2], results.Take(2).Select(r => r.BatchSize));
        var refused = await Assert.ThrowsAsync<InferenceRejectedException>(() => expired);
        Assert.Equal(RejectionReason.DeadlineExceeded, refused.Reason);
    }

    /// <summary>
    /// An executor that merges rows (the default then) takes what fits, oldest first, at every
    /// step: the queue need not fit as a whole.
    /// </summary>
    [Fact]
    public async Task MergingRowsTakesWhatFitsAtEveryStep()
    {
        var executor = new JoiningExecutor { JoinsByDefault = true, WholeQueueOnly = false };
        await using var batcher = new DynamicBatcher<int, int>(
            "test", new BatcherSettings(MaxBatchSize: 4, MaxQueueDelay: TimeSpan.Zero, MaxQueueSize: 100), executor, NullLogger.Instance);

        var first = batcher.EnqueueAsync(12, s_noDeadline, _timeout.Token); // 2 slots
        await executor.FirstBatchStarted.WaitAsync(_timeout.Token);

        // Step 1: beside 12 (2 slots), 21 and 31 fit (1 + 1), 42 does not and waits; 12 finishes.
        // Step 2: beside 21 and 31 (2 slots), 42 fits; 21 finishes. Then 31 and 42 finish.
        int[] later = [21, 31, 42];
        var others = later.Select(p => batcher.EnqueueAsync(p, s_noDeadline, _timeout.Token)).ToArray();
        executor.Steps.Release(10);
        var results = await Task.WhenAll([first, .. others]);

        Assert.Equal([[21, 31], [42], [], []], executor.Joined);
        Assert.Equal([[12]], executor.Batches);
        Assert.Equal([120, 210, 310, 420], results.Select(r => r.Value));
    }

    /// <summary>Joining is off unless configured or the executor prefers it: a joinable executor then runs each batch to completion, as a plain one does.</summary>
    [Fact]
    public async Task WithoutJoiningABatchRunsToCompletionBeforeTheNextForms()
    {
        var executor = new JoiningExecutor();
        await using var batcher = new DynamicBatcher<int, int>(
            "test", new BatcherSettings(MaxBatchSize: 4, MaxQueueDelay: TimeSpan.Zero, MaxQueueSize: 100), executor, NullLogger.Instance);

        var first = batcher.EnqueueAsync(12, s_noDeadline, _timeout.Token);
        await executor.FirstBatchStarted.WaitAsync(_timeout.Token);
        var second = batcher.EnqueueAsync(21, s_noDeadline, _timeout.Token);
        executor.Steps.Release(2);
        await Task.WhenAll(first, second);

        Assert.Equal([[12], [21]], executor.Batches);
        Assert.Equal([[], []], executor.Joined);
    }

    /// <summary>Answers payload × 10 and records the thread each batch ran on.</summary>
    private sealed class ThreadRecordingExecutor : IBatchExecutor<int, int>
    {
        private readonly Lock _gate = new();
        private readonly List<Thread> _threads = [];

        public IReadOnlyList<Thread> Threads
        {
            get
            {
                lock (_gate)
                {
                    return [.. _threads];
                }
            }
        }

        public ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<int, int>> batch, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                _threads.Add(Thread.CurrentThread);
            }

            foreach (var request in batch)
            {
                request.Complete(request.Payload * 10);
            }

            return ValueTask.CompletedTask;
        }
    }
}
