namespace CaptionService.Inference.Batching;

/// <summary>
/// The limits one stage's batcher works to (taken from <see cref="BatchingOptions"/>).
/// <see cref="JoinRunningBatches"/> null: as the executor prefers (<see cref="IJoinableBatchExecutor{TPayload, TResult}.JoinsByDefault"/>).
/// <paramref name="BatchTimeout"/>: how long a started request may go unanswered; null for no bound.
/// <paramref name="BulkDeferral"/>: how long a bulk request (a beam search's: see the batcher's
/// <c>isBulk</c>) may be overtaken by other requests and kept out of <paramref name="ReservedSlots"/>;
/// zero for plain arrival order.
/// <paramref name="ReservedSlots"/>: slots of a running batch that bulk requests not yet waiting
/// <paramref name="BulkDeferral"/> may not take, so that other requests join at the next step.
/// <paramref name="Niceness"/>: how far the stage's thread lowers its priority (see <see cref="ThreadNiceness"/>).
/// <paramref name="BulkApart"/>: in a stage whose batches run to completion, a bulk request within
/// its deferral joins no batch that other requests are in, so that it does not lengthen theirs.
/// </summary>
internal sealed record BatcherSettings(
    int MaxBatchSize,
    TimeSpan MaxQueueDelay,
    int MaxQueueSize,
    bool? JoinRunningBatches = null,
    TimeSpan? BatchTimeout = null,
    TimeSpan BulkDeferral = default,
    int ReservedSlots = 0,
    int Niceness = 0,
    bool BulkApart = false)
{
    public static BatcherSettings From(BatchingOptions options) =>
        new(options.MaxBatchSize, options.MaxQueueDelay, options.MaxQueueSize, options.JoinRunningBatches, options.BatchTimeout,
            options.EffectiveBeamSearchDeferral);
}
