using CaptionService.Inference;

namespace CaptionService.Api.Contracts;

/// <summary>The dynamic batcher's settings (section <c>CaptionService:Batching</c>).</summary>
public sealed class BatchingDescription
{
    /// <summary>Most requests run together in one batch.</summary>
    public required int MaxBatchSize { get; init; }

    /// <summary>Caption decoding: slots (one per caption, one per beam) that decode at once; 0 for a scoring-only (CLIP) model.</summary>
    public required int MaxDecodingRows { get; init; }

    /// <summary>Caption decoding: of those slots, the ones beam searches may not take, kept for greedy captions; 0 when requests do not join running batches.</summary>
    public required int GreedyReservedRows { get; init; }

    /// <summary>
    /// How long a beam search's request lets greedy captions that arrive after it start first, in
    /// image encoding and in caption decoding, in milliseconds; 0 for a scoring-only (CLIP) model.
    /// </summary>
    public required double BeamSearchDeferralMs { get; init; }

    /// <summary>Longest time the oldest request of a batch waits for company, in milliseconds.</summary>
    public required double MaxQueueDelayMs { get; init; }

    /// <summary>Requests that may wait; one more is refused with 429.</summary>
    public required int MaxQueueSize { get; init; }

    /// <summary>A request not run within this time is answered 503, in milliseconds.</summary>
    public required double RequestTimeoutMs { get; init; }

    internal static BatchingDescription From(BatchingSettings settings) => new()
    {
        MaxBatchSize = settings.MaxBatchSize,
        MaxDecodingRows = settings.MaxDecodingRows,
        GreedyReservedRows = settings.GreedyReservedRows,
        BeamSearchDeferralMs = settings.BeamSearchDeferral.TotalMilliseconds,
        MaxQueueDelayMs = settings.MaxQueueDelay.TotalMilliseconds,
        MaxQueueSize = settings.MaxQueueSize,
        RequestTimeoutMs = settings.RequestTimeout.TotalMilliseconds,
    };
}
