using System.Diagnostics;
using CaptionService.Inference;

namespace CaptionService.Api.Engine;

/// <summary>
/// Runs the engine's warm-up once the server listens; readiness turns true when it is done.
/// Liveness answers meanwhile. A failed warm-up means the model cannot run here, so the process
/// stops with exit code 1 instead of staying up unready forever.
/// </summary>
internal sealed partial class EngineWarmUpService(
    ICaptionEngine engine,
    IHostApplicationLifetime lifetime,
    ILogger<EngineWarmUpService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await engine.WarmUpAsync(stoppingToken);
            var elapsed = Stopwatch.GetElapsedTime(started);
            LogWarmedUp(logger, elapsed.TotalMilliseconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shut down while warming up: nothing to report.
        }
        catch (Exception e)
        {
            LogWarmUpFailed(logger, e);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Warm-up done in {ElapsedMs:0} ms; ready")]
    private static partial void LogWarmedUp(ILogger logger, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Warm-up failed; stopping")]
    private static partial void LogWarmUpFailed(ILogger logger, Exception exception);
}
