using Microsoft.Extensions.Logging;

namespace CaptionService.Inference;

internal static partial class CaptionEngineLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Warm-up finished in {ElapsedMs:F0} ms")]
    public static partial void WarmedUp(ILogger logger, double elapsedMs);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Draining: {InFlight} requests still in flight")]
    public static partial void Draining(ILogger logger, int inFlight);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Engine stopped")]
    public static partial void Stopped(ILogger logger);
}
