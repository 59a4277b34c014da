using Microsoft.Extensions.Logging;

namespace CaptionService.Inference.Batching;

internal static partial class BatchingLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Debug,
        Message = "{Stage} batch of {BatchSize} ran in {InferenceMs:F2} ms after its oldest request queued {QueueMs:F2} ms")]
    public static partial void BatchExecuted(ILogger logger, string stage, int batchSize, double queueMs, double inferenceMs);

    [LoggerMessage(EventId = 201, Level = LogLevel.Error, Message = "{Stage} batch of {BatchSize} failed")]
    public static partial void BatchFailed(ILogger logger, string stage, int batchSize, Exception exception);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "{Stage} queue is full ({MaxQueueSize} requests); refusing a request")]
    public static partial void QueueFull(ILogger logger, string stage, int maxQueueSize);
}
