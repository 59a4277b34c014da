namespace CaptionService.Inference.Batching;

/// <summary>
/// An executor whose batch stays open while it runs (iteration-level, or continuous, batching):
/// between its own steps it asks the <see cref="IBatchJoiner{TPayload, TResult}"/> for requests
/// that arrived meanwhile, so that a short request need not wait for a long batch to finish.
/// </summary>
/// <remarks>Requests that join are answered like the first ones (see <see cref="IBatchExecutor{TPayload, TResult}"/>).</remarks>
internal interface IJoinableBatchExecutor<TPayload, TResult> : IBatchExecutor<TPayload, TResult>
{
    /// <summary>
    /// The batch slots one request occupies; <see cref="BatcherSettings.MaxBatchSize"/> counts slots.
    /// A beam search, for example, occupies one slot per beam.
    /// </summary>
    int SlotsOf(TPayload payload);

    /// <summary>Whether requests join running batches when the settings leave it open.</summary>
    bool JoinsByDefault { get; }

    /// <summary>Runs <paramref name="batch"/>, taking more requests from <paramref name="joiner"/> as slots free up.</summary>
    ValueTask ExecuteAsync(
        IReadOnlyList<BatchRequest<TPayload, TResult>> batch, IBatchJoiner<TPayload, TResult> joiner, CancellationToken cancellationToken);
}

/// <summary>The batcher's side of <see cref="IJoinableBatchExecutor{TPayload, TResult}"/>.</summary>
internal interface IBatchJoiner<TPayload, TResult>
{
    /// <summary>
    /// Starts waiting requests, oldest first (bulk ones after the others, within their share of the
    /// slots: see <see cref="DynamicBatcher{TPayload, TResult}"/>), while they fit beside
    /// <paramref name="slotsInUse"/> occupied slots, without waiting for more to arrive. With <paramref name="wholeQueueOnly"/>,
    /// all of them or none (a queue that does not fit waits for a fresh, full batch), though bulk
    /// ones kept out of the reserved slots stay queued while the others start. Expired ones
    /// are answered on their own path; the returned requests are timed and answered like the
    /// batch's first ones.
    /// </summary>
    IReadOnlyList<BatchRequest<TPayload, TResult>> TakeWaiting(int slotsInUse, bool wholeQueueOnly);
}
