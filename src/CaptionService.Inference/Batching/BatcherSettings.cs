namespace CaptionService.Inference.Batching;

/// <summary>The limits one stage's batcher works to (taken from <see cref="BatchingOptions"/>).</summary>
internal sealed record BatcherSettings(int MaxBatchSize, TimeSpan MaxQueueDelay, int MaxQueueSize, bool JoinRunningBatches = false)
{
    public static BatcherSettings From(BatchingOptions options) =>
        new(options.MaxBatchSize, options.MaxQueueDelay, options.MaxQueueSize, options.JoinRunningBatches);
}
