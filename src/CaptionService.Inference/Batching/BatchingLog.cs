using Microsoft.Extensions.Logging;

namespace CaptionService.Inference.Batching;

internal static partial class BatchingLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Debug,
        Message = "{Stage} batch of {BatchSize} ran in {InferenceMs:F2} ms after its oldest request queued {QueueMs:F2} ms")]
    public static partial void BatchExecuted(ILogger logger, string stage, int batchSize, double queueMs, double inferenceMs);

    [LoggerMessage(EventId = 201, Level = LogLevel.Error,
        Message = "{Stage} batch of {BatchSize} failed, error id {ErrorId}: its {FailedRequests} unanswered requests get 500")]
    public static partial void BatchFailed(ILogger logger, string stage, int batchSize, int failedRequests, string errorId, Exception exception);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "{Stage} queue is full ({MaxQueueSize} requests); refusing a request")]
    public static partial void QueueFull(ILogger logger, string stage, int maxQueueSize);

    [LoggerMessage(EventId = 203, Level = LogLevel.Error,
        Message = "{Stage} batch has run past the batch timeout ({BatchTimeoutMs:F0} ms): its unanswered requests get 503, and the stage waits for it to return")]
    public static partial void BatchOverran(ILogger logger, string stage, double batchTimeoutMs);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning,
        Message = "{Stage} batch of {BatchSize} that overran the batch timeout returned after {InferenceMs:F0} ms; the stage serves again")]
    public static partial void OverranBatchEnded(ILogger logger, string stage, int batchSize, double inferenceMs);
}
