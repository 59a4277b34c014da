using System.Diagnostics;

namespace CaptionService.Inference.Batching;

/// <summary>
/// One queued request. It moves from queued to running (taken into a batch) or to dropped
/// (cancelled, expired, or refused at shutdown) exactly once; whichever happens first wins.
/// </summary>
internal sealed class BatchRequest<TPayload, TResult>
{
    private const int Queued = 0;
    private const int Running = 1;
    private const int Dropped = 2;

    private readonly TaskCompletionSource<Batched<TResult>> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;
    private CancellationTokenRegistration _cancellationRegistration;
    private ITimer? _deadlineTimer;
    private ITimer? _executionTimer;
    private long _startedTimestamp;
    private long _batchStartedTimestamp;
    private int _batchSize;

    public BatchRequest(TPayload payload, long enqueuedTimestamp, long deadlineTimestamp, CancellationToken cancellationToken)
    {
        // The caller's span (the HTTP request's): the queue wait and the batch refer to it.
        TraceContext = Activity.Current?.Context ?? default;
        Payload = payload;
        EnqueuedTimestamp = enqueuedTimestamp;
        DeadlineTimestamp = deadlineTimestamp;
        CancellationToken = cancellationToken;
    }

    public TPayload Payload { get; }

    /// <summary>The span of whoever enqueued the request, or default when nothing traces it.</summary>
    public ActivityContext TraceContext { get; }

    /// <summary>The caller's token: the client went away. Executors may check it between steps.</summary>
    public CancellationToken CancellationToken { get; }

    public long EnqueuedTimestamp { get; }

    public long DeadlineTimestamp { get; }

    internal Task<Batched<TResult>> Completion => _completion.Task;

    internal bool IsQueued => Volatile.Read(ref _state) == Queued;

    /// <summary>
    /// Answers the request with its result. A request already answered (abandoned when its batch
    /// overran the batch timeout) takes no result: a disposable one is disposed here, since no
    /// caller will.
    /// </summary>
    public void Complete(TResult result)
    {
        _executionTimer?.Dispose();
        if (!_completion.TrySetResult(new Batched<TResult>(result, QueueTime, Stopwatch.GetElapsedTime(_batchStartedTimestamp), _batchSize))
            && result is IDisposable late)
        {
            late.Dispose();
        }
    }

    /// <summary>Answers the request with a failure (a rejection, or cancellation while it ran).</summary>
    public void Fail(Exception exception)
    {
        _executionTimer?.Dispose();
        if (exception is OperationCanceledException canceled)
        {
            _completion.TrySetCanceled(canceled.CancellationToken);
        }
        else
        {
            _completion.TrySetException(exception);
        }
    }

    internal TimeSpan QueueTime => TimeSpanBetween(EnqueuedTimestamp, Volatile.Read(ref _startedTimestamp));

    internal bool IsCompleted => _completion.Task.IsCompleted;

    /// <summary>Drops the request the moment its caller cancels, if it has not started.</summary>
    internal void ObserveCancellation(Action<BatchRequest<TPayload, TResult>> onDropped)
    {
        if (CancellationToken.CanBeCanceled)
        {
            _cancellationRegistration = CancellationToken.Register(() =>
            {
                if (TryDrop())
                {
                    onDropped(this);
                    _deadlineTimer?.Dispose();
                    _completion.TrySetCanceled(CancellationToken);
                }
            });
        }

        ReleaseWatchersIfStarted();
    }

    /// <summary>Answers the request with <see cref="RejectionReason.DeadlineExceeded"/> the moment its deadline passes, if it has not started.</summary>
    internal void ObserveDeadline(Action<BatchRequest<TPayload, TResult>> onDropped)
    {
        if (DeadlineTimestamp == long.MaxValue)
        {
            return;
        }

        var remaining = DeadlineRemaining(Stopwatch.GetTimestamp());
        _deadlineTimer = TimeProvider.System.CreateTimer(
            _ =>
            {
                if (TryDrop())
                {
                    onDropped(this);
                    _cancellationRegistration.Dispose();
                    Fail(DeadlineExceeded());
                }
            },
            state: null,
            dueTime: remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero,
            period: Timeout.InfiniteTimeSpan);
        ReleaseWatchersIfStarted();
    }

    /// <summary>
    /// Calls <paramref name="onOverrun"/> if the request is still unanswered <paramref name="bound"/>
    /// after it started running. A timer rather than the consumer loop: the loop is blocked for as
    /// long as the executor runs, which is exactly what may hang.
    /// </summary>
    internal void WatchExecution(TimeSpan bound, Action<BatchRequest<TPayload, TResult>> onOverrun)
    {
        _executionTimer = TimeProvider.System.CreateTimer(
            _ =>
            {
                if (!IsCompleted)
                {
                    onOverrun(this);
                }
            },
            state: null,
            dueTime: bound,
            period: Timeout.InfiniteTimeSpan);
        if (IsCompleted)
        {
            _executionTimer.Dispose(); // answered before the timer was stored
        }
    }

    internal bool IsExpired(long nowTimestamp) => DeadlineRemaining(nowTimestamp) <= TimeSpan.Zero;

    internal static InferenceRejectedException DeadlineExceeded() =>
        new(RejectionReason.DeadlineExceeded, "The request waited longer than the request timeout before it could run; the server is overloaded.");

    /// <summary>Claims the request for execution; false when it was dropped first.</summary>
    internal bool TryStart(long startedTimestamp)
    {
        if (Interlocked.CompareExchange(ref _state, Running, Queued) != Queued)
        {
            return false;
        }

        Volatile.Write(ref _startedTimestamp, startedTimestamp);
        ReleaseWatchers();
        return true;
    }

    /// <summary>Claims the request to answer it without running it; false when it already started or was dropped.</summary>
    internal bool TryDrop() => Interlocked.CompareExchange(ref _state, Dropped, Queued) == Queued;

    internal void DropWith(Exception exception)
    {
        ReleaseWatchers();
        Fail(exception);
    }

    /// <summary>The consumer may take the request before its watchers are registered; then nothing is left to watch.</summary>
    private void ReleaseWatchersIfStarted()
    {
        if (Volatile.Read(ref _state) == Running)
        {
            ReleaseWatchers();
        }
    }

    private void ReleaseWatchers()
    {
        _cancellationRegistration.Dispose();
        _deadlineTimer?.Dispose();
    }

    private TimeSpan DeadlineRemaining(long nowTimestamp) =>
        DeadlineTimestamp == long.MaxValue ? TimeSpan.MaxValue
        : nowTimestamp >= DeadlineTimestamp ? TimeSpan.Zero
        : Stopwatch.GetElapsedTime(nowTimestamp, DeadlineTimestamp);

    /// <summary>Called before the executor runs, so that a result reports how long its batch ran until it was answered.</summary>
    internal void MarkBatchStarted(long batchStartedTimestamp, int batchSize)
    {
        _batchStartedTimestamp = batchStartedTimestamp;
        _batchSize = batchSize;
    }

    private static TimeSpan TimeSpanBetween(long start, long end) =>
        end == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(start, end);
}
