namespace CaptionService.Inference.Batching;

/// <summary>
/// The limits one stage's batcher works to (taken from <see cref="BatchingOptions"/>).
/// <see cref="JoinRunningBatches"/> null: as the executor prefers (<see cref="IJoinableBatchExecutor{TPayload, TResult}.JoinsByDefault"/>).
/// <paramref name="BatchTimeout"/>: how long a started request may go unanswered; null for no bound.
/// </summary>
internal sealed record BatcherSettings(
    int MaxBatchSize, TimeSpan MaxQueueDelay, int MaxQueueSize, bool? JoinRunningBatches = null, TimeSpan? BatchTimeout = null)
{
    public static BatcherSettings From(BatchingOptions options) =>
        new(options.MaxBatchSize, options.MaxQueueDelay, options.MaxQueueSize, options.JoinRunningBatches, options.BatchTimeout);
}
