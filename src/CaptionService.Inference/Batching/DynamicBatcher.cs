using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace CaptionService.Inference.Batching;

/// <summary>
/// A Triton-style dynamic batcher for one stage: a bounded queue and one consumer loop. A batch
/// closes when it holds <see cref="BatcherSettings.MaxBatchSize"/> requests or when its oldest
/// request has waited <see cref="BatcherSettings.MaxQueueDelay"/>, whichever comes first.
/// </summary>
/// <remarks>
/// <para>
/// Requests start in arrival order, except bulk ones (a beam search's, as the stage's
/// <c>isBulk</c> says): for <see cref="BatcherSettings.BulkDeferral"/> after arrival they start
/// after every other waiting request, and a batch that requests join gives them no more than the
/// slots left beside <see cref="BatcherSettings.ReservedSlots"/>, so that a greedy caption arriving
/// while beam searches decode joins at the next step. With <see cref="BatcherSettings.BulkApart"/>,
/// in a stage whose batches run to completion, such a bulk request waits for a batch that no other
/// request takes. One bulk request always fits when none runs, and one that has waited the
/// deferral takes its place in arrival order, so bulk work is delayed but never starved.
/// </para>
/// <para>
/// The consumer loop runs on a thread of its own, not on the thread pool: an executor blocks in
/// native inference calls for the whole batch (a caption batch that requests keep joining lasts as
/// long as the load does), and every pool thread held that way is one fewer for the server's
/// requests until the pool notices and injects another, which on a machine of few cores it does
/// slowly.
/// </para>
/// <para>
/// Ownership: after <see cref="EnqueueAsync"/> the batcher holds a reference to the payload until
/// the returned task completes; the caller keeps ownership (and disposes the payload afterwards).
/// The task completes exactly once: with the executor's result; canceled if the caller's token
/// fires before the request runs (it is then never run); <see cref="RejectionReason.DeadlineExceeded"/>
/// if its deadline passes before it runs; <see cref="RejectionReason.ExecutionTimedOut"/> if it
/// runs longer than <see cref="BatcherSettings.BatchTimeout"/> without an answer; or, when the
/// executor throws or leaves it unanswered, with an <see cref="InferenceFailedException"/> whose
/// error id the failure was logged under, once for the whole batch.
/// </para>
/// </remarks>
internal sealed class DynamicBatcher<TPayload, TResult> : IAsyncDisposable, IBatchJoiner<TPayload, TResult>
{
    /// <summary>What a refused client is told to wait; a queue this full drains within about a second.</summary>
    private static readonly TimeSpan s_retryAfter = TimeSpan.FromSeconds(1);

    private readonly string _stage;
    private readonly BatcherSettings _settings;
    private readonly IBatchExecutor<TPayload, TResult> _executor;
    private readonly IJoinableBatchExecutor<TPayload, TResult>? _joinable;
    private List<BatchRequest<TPayload, TResult>>? _running;
    private int _servedByRunningBatch;
    private readonly ILogger _logger;
    private readonly EngineMetrics? _metrics;
    private readonly Lock _gate = new();
    private readonly LinkedList<BatchRequest<TPayload, TResult>> _queue = new();
    private readonly Func<TPayload, bool>? _isBulk;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Action<BatchRequest<TPayload, TResult>> _onDropped;
    private readonly Action<BatchRequest<TPayload, TResult>> _onOverrun;
    private readonly TaskCompletionSource _consumerStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pending;
    private int _runningBatchOverran;
    private volatile bool _accepting = true;

    /// <summary>Starts the stage's consumer thread. <c>isBulk</c> says which requests are bulk work that yields to the others (see the remarks); null: none.</summary>
    public DynamicBatcher(
        string stage,
        BatcherSettings settings,
        IBatchExecutor<TPayload, TResult> executor,
        ILogger logger,
        EngineMetrics? metrics = null,
        Func<TPayload, bool>? isBulk = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxQueueSize, 1);
        _stage = stage;
        _settings = settings;
        _executor = executor;
        var joinable = executor as IJoinableBatchExecutor<TPayload, TResult>;
        _joinable = settings.JoinRunningBatches ?? joinable?.JoinsByDefault ?? false ? joinable : null;
        _logger = logger;
        _metrics = metrics;
        _isBulk = isBulk;
        _onDropped = _ =>
        {
            Interlocked.Decrement(ref _pending);
            _signal.Release();
        };
        _onOverrun = Abandon;
        new Thread(Consume) { IsBackground = true, Name = $"CaptionService {stage} batcher" }.Start();
    }

    public string Stage => _stage;

    /// <summary>
    /// True while the running batch has left a request unanswered past
    /// <see cref="BatcherSettings.BatchTimeout"/> (the executor has not returned), false again once
    /// it returns: the stage serves nothing meanwhile, so readiness reports it.
    /// </summary>
    public bool IsStuck => Volatile.Read(ref _runningBatchOverran) == 1 && Volatile.Read(ref _running) is not null;

    /// <summary>Requests waiting in the queue (not yet running, not dropped).</summary>
    public int QueueDepth => Math.Max(Volatile.Read(ref _pending), 0);

    /// <summary>Queues one request; see the class remarks for how the task completes.</summary>
    /// <param name="payload">The request's input; the caller still owns it.</param>
    /// <param name="deadlineTimestamp">A <see cref="Stopwatch.GetTimestamp"/> value after which the request must not start; <see cref="long.MaxValue"/> for none.</param>
    /// <param name="cancellationToken">The client's token: cancelling drops the request if it has not started.</param>
    /// <returns>The result; the task faults at once with <see cref="InferenceRejectedException"/> when the queue is full (<see cref="RejectionReason.QueueFull"/>) or the batcher is shutting down (<see cref="RejectionReason.Unavailable"/>).</returns>
    public Task<Batched<TResult>> EnqueueAsync(TPayload payload, long deadlineTimestamp, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<Batched<TResult>>(cancellationToken);
        }

        var request = new BatchRequest<TPayload, TResult>(payload, Stopwatch.GetTimestamp(), deadlineTimestamp, cancellationToken);
        lock (_gate)
        {
            if (!_accepting)
            {
                return Task.FromException<Batched<TResult>>(
                    new InferenceRejectedException(RejectionReason.Unavailable, "The server is shutting down and accepts no new requests."));
            }

            if (Volatile.Read(ref _pending) >= _settings.MaxQueueSize)
            {
                BatchingLog.QueueFull(_logger, _stage, _settings.MaxQueueSize);
                return Task.FromException<Batched<TResult>>(new InferenceRejectedException(RejectionReason.QueueFull,
                    $"The {_stage} queue is full ({_settings.MaxQueueSize} requests waiting); retry shortly.", s_retryAfter));
            }

            _queue.AddLast(request);
            Interlocked.Increment(ref _pending);
        }

        // Watch after queueing: a token that is already cancelled drops the request at once.
        request.ObserveDeadline(_onDropped);
        request.ObserveCancellation(_onDropped);
        _signal.Release();
        return request.Completion;
    }

    /// <summary>Stops accepting requests, runs everything already queued, then stops the consumer loop.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _accepting = false;
        }

        _signal.Release();
        await _consumerStopped.Task.ConfigureAwait(false);

        // _signal is deliberately not disposed: a request dropped by its deadline timer or its
        // token releases it from that thread after TryDrop, and the consumer can finish (and this
        // method return) in between; Release on a disposed SemaphoreSlim would throw there, on a
        // timer thread, and end the process. Unused, it holds no handle (AvailableWaitHandle is
        // never read), so the GC reclaims it.
    }

    private void Consume()
    {
        // The stage's thread takes part in every run of its executor, so it runs at its pool's priority.
        ThreadNiceness.LowerCurrentThread(_settings.Niceness);
        try
        {
            ConsumeUntilStopped();
            _consumerStopped.SetResult();
        }
        catch (Exception ex)
        {
            _consumerStopped.SetException(ex);
        }
    }

    private void ConsumeUntilStopped()
    {
        var batch = new List<BatchRequest<TPayload, TResult>>(_settings.MaxBatchSize);
        while (true)
        {
            var oldest = PeekOldestQueued();
            if (oldest is null)
            {
                if (!_accepting && IsQueueEmpty())
                {
                    return;
                }

                _signal.Wait();
                continue;
            }

            if (!WaitForBatchToClose(oldest))
            {
                continue; // the oldest request left the queue while we waited; its delay no longer applies
            }

            TakeWaiting(batch, slotsInUse: 0, bulkSlotsInUse: 0, Stopwatch.GetTimestamp());
            if (batch.Count > 0)
            {
                Execute(batch);
                batch.Clear();
            }
        }
    }

    /// <summary>Waits until the batch is full or the oldest request's delay is spent; false if the oldest request was dropped meanwhile.</summary>
    private bool WaitForBatchToClose(BatchRequest<TPayload, TResult> oldest)
    {
        while (_accepting && QueueDepth < _settings.MaxBatchSize)
        {
            var remaining = _settings.MaxQueueDelay - Stopwatch.GetElapsedTime(oldest.EnqueuedTimestamp);
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            _signal.Wait(remaining);
            if (!oldest.IsQueued)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The oldest request still queued; dropped requests at the head are discarded on the way.</summary>
    private BatchRequest<TPayload, TResult>? PeekOldestQueued()
    {
        lock (_gate)
        {
            while (_queue.First is { } head)
            {
                if (head.Value.IsQueued)
                {
                    return head.Value;
                }

                _queue.RemoveFirst();
            }

            return null;
        }
    }

    private bool IsQueueEmpty()
    {
        lock (_gate)
        {
            return _queue.Count == 0;
        }
    }

    /// <inheritdoc/>
    IReadOnlyList<BatchRequest<TPayload, TResult>> IBatchJoiner<TPayload, TResult>.TakeWaiting(int slotsInUse, bool wholeQueueOnly)
    {
        var running = _running ?? throw new InvalidOperationException("Requests can join only while a batch runs.");
        var joined = new List<BatchRequest<TPayload, TResult>>();
        var now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            if (wholeQueueOnly)
            {
                var waiting = _queue.Where(request => request.IsQueued && !request.IsExpired(now)).Sum(SlotsOf);
                if (slotsInUse + waiting > _settings.MaxBatchSize)
                {
                    return joined;
                }
            }

            var bulkSlotsInUse = running.Where(request => !request.IsCompleted && IsBulk(request)).Sum(SlotsOf);
            TakeWaiting(joined, slotsInUse, bulkSlotsInUse, now);
        }

        // A batch that requests keep joining may last as long as the load does: it keeps only the
        // requests still unanswered (those its end must answer) and counts the others.
        running.RemoveAll(request => request.IsCompleted);
        foreach (var request in joined)
        {
            Started(request, now, running.Count + joined.Count);
        }

        running.AddRange(joined);
        _servedByRunningBatch += joined.Count;
        return joined;
    }

    /// <summary>
    /// Moves live requests into <paramref name="batch"/> while they fit in MaxBatchSize slots beside
    /// <paramref name="slotsInUse"/> (an empty batch always takes one, however many slots it needs),
    /// answering expired ones on their own path. Oldest first, except that bulk requests still within
    /// their deferral come after all others and, when the batch is one that requests join, stay out
    /// of the reserved slots beside <paramref name="bulkSlotsInUse"/> unless no bulk request runs
    /// (or, with <see cref="BatcherSettings.BulkApart"/> in a batch that runs to completion, out of
    /// a batch that others are in). A request that does not fit stops the taking, so that nothing
    /// behind it overtakes it.
    /// </summary>
    private void TakeWaiting(List<BatchRequest<TPayload, TResult>> batch, int slotsInUse, int bulkSlotsInUse, long now)
    {
        lock (_gate)
        {
            List<LinkedListNode<BatchRequest<TPayload, TResult>>>? deferred = null;
            for (var node = _queue.First; node is not null;)
            {
                var next = node.Next;
                if (!DropIfGone(node, now))
                {
                    if (IsDeferred(node.Value, now))
                    {
                        (deferred ??= []).Add(node);
                    }
                    else if (!TryTake(node, batch, ref slotsInUse, ref bulkSlotsInUse, now, bulkLimit: int.MaxValue))
                    {
                        return;
                    }
                }

                node = next;
            }

            if (_joinable is null && _settings.BulkApart && batch.Count > 0)
            {
                return;
            }

            var bulkLimit = _joinable is null ? int.MaxValue : _settings.MaxBatchSize - _settings.ReservedSlots;
            foreach (var node in deferred ?? [])
            {
                if (!DropIfGone(node, now) && !TryTake(node, batch, ref slotsInUse, ref bulkSlotsInUse, now, bulkLimit))
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Starts the request if it fits (its bulk slots within <paramref name="bulkLimit"/> unless no
    /// bulk request runs); false if it does not fit. A request dropped meanwhile just leaves the queue.
    /// </summary>
    private bool TryTake(
        LinkedListNode<BatchRequest<TPayload, TResult>> node,
        List<BatchRequest<TPayload, TResult>> batch,
        ref int slotsInUse,
        ref int bulkSlotsInUse,
        long now,
        int bulkLimit)
    {
        var request = node.Value;
        var slots = SlotsOf(request);
        var bulk = IsBulk(request);
        if (slotsInUse > 0 && (slotsInUse + slots > _settings.MaxBatchSize || (bulk && bulkSlotsInUse > 0 && bulkSlotsInUse + slots > bulkLimit)))
        {
            return false;
        }

        _queue.Remove(node);
        if (request.TryStart(now))
        {
            Interlocked.Decrement(ref _pending);
            batch.Add(request);
            slotsInUse += slots;
            bulkSlotsInUse += bulk ? slots : 0;
        }

        return true;
    }

    /// <summary>Takes out of the queue a request that was dropped, or answers one whose deadline has passed; true if it left.</summary>
    private bool DropIfGone(LinkedListNode<BatchRequest<TPayload, TResult>> node, long now)
    {
        var request = node.Value;
        if (request.IsQueued && !request.IsExpired(now))
        {
            return false;
        }

        _queue.Remove(node);
        if (request.TryDrop())
        {
            Interlocked.Decrement(ref _pending);
            request.DropWith(BatchRequest<TPayload, TResult>.DeadlineExceeded());
        }

        return true;
    }

    private bool IsBulk(BatchRequest<TPayload, TResult> request) => _isBulk?.Invoke(request.Payload) ?? false;

    /// <summary>A bulk request that arrived less than the deferral ago yields to the others.</summary>
    private bool IsDeferred(BatchRequest<TPayload, TResult> request, long now) =>
        IsBulk(request) && Stopwatch.GetElapsedTime(request.EnqueuedTimestamp, now) < _settings.BulkDeferral;

    private int SlotsOf(BatchRequest<TPayload, TResult> request) => _joinable?.SlotsOf(request.Payload) ?? 1;

    private void Started(BatchRequest<TPayload, TResult> request, long started, int batchSize)
    {
        request.MarkBatchStarted(started, batchSize);
        if (_settings.BatchTimeout is { } bound)
        {
            request.WatchExecution(bound, _onOverrun);
        }

        _metrics?.RecordQueueTime(_stage, request.QueueTime);
        EngineTracing.QueueWait(_stage, request.TraceContext, request.QueueTime);
    }

    private void Execute(List<BatchRequest<TPayload, TResult>> batch)
    {
        var started = Stopwatch.GetTimestamp();
        var oldestQueueTime = TimeSpan.Zero;
        Volatile.Write(ref _runningBatchOverran, 0);
        Volatile.Write(ref _running, batch);
        foreach (var request in batch)
        {
            Started(request, started, batch.Count);
            oldestQueueTime = request.QueueTime > oldestQueueTime ? request.QueueTime : oldestQueueTime;
        }

        Exception? failure = null;
        _servedByRunningBatch = batch.Count;
        using var activity = EngineTracing.Batch(_stage, batch.Select(request => request.TraceContext));
        try
        {
            if (_joinable is null)
            {
                WaitFor(_executor.ExecuteAsync(batch, CancellationToken.None));
            }
            else
            {
                WaitFor(_joinable.ExecuteAsync(batch, this, CancellationToken.None));
            }
        }
        catch (Exception ex)
        {
            failure = ex;
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
        }
        finally
        {
            Volatile.Write(ref _running, null);
        }

        // With joining, the batch grew while it ran: its size and time cover every request it served.
        var executionTime = Stopwatch.GetElapsedTime(started);
        var served = _servedByRunningBatch;
        activity?.SetTag("captionservice.batch.size", served);
        _metrics?.RecordBatch(_stage, served, executionTime);
        BatchingLog.BatchExecuted(_logger, _stage, served, oldestQueueTime.TotalMilliseconds, executionTime.TotalMilliseconds);
        if (Volatile.Read(ref _runningBatchOverran) == 1)
        {
            BatchingLog.OverranBatchEnded(_logger, _stage, served, executionTime.TotalMilliseconds);
        }

        // Nobody may be left waiting: answer whatever the executor did not, with one error id for
        // the batch, logged once here (the host quotes it in each request's 500).
        var unanswered = batch.FindAll(request => !request.IsCompleted);
        if (failure is null && unanswered.Count == 0)
        {
            return;
        }

        var errorId = InferenceFailedException.NewErrorId();
        var cause = failure ?? new InvalidOperationException($"The {_stage} executor returned without answering {unanswered.Count} request(s).");
        BatchingLog.BatchFailed(_logger, _stage, served, unanswered.Count, errorId, cause);
        var fault = new InferenceFailedException(_stage, errorId, cause);
        foreach (var request in unanswered)
        {
            request.Fail(fault);
        }
    }

    /// <summary>Executors finish synchronously (their inference calls block); one that does not is waited for on this thread.</summary>
    private static void WaitFor(ValueTask execution)
    {
        if (execution.IsCompletedSuccessfully)
        {
            return;
        }

        execution.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// Answers a request its batch has not answered within the batch timeout. The executor keeps
    /// the consumer loop until it returns (a native call cannot be stopped safely), so queued
    /// requests meanwhile meet their own deadlines; the stage serves again once it returns.
    /// </summary>
    private void Abandon(BatchRequest<TPayload, TResult> request)
    {
        var bound = _settings.BatchTimeout.GetValueOrDefault();
        if (Interlocked.Exchange(ref _runningBatchOverran, 1) == 0)
        {
            BatchingLog.BatchOverran(_logger, _stage, bound.TotalMilliseconds); // before the first answer, so the log explains it
        }

        request.Fail(new InferenceRejectedException(
            RejectionReason.ExecutionTimedOut,
            $"The {_stage} batch running this request did not finish within the batch timeout ({bound.TotalSeconds:0.###} s); the request was abandoned."));
    }
}
