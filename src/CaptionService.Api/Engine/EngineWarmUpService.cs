using System.Diagnostics;
using CaptionService.Api.Models;

namespace CaptionService.Api.Engine;

/// <summary>
/// Runs each model's warm-up once the server listens, the default's first; readiness turns true
/// when the default's is done. Liveness answers meanwhile. With a single package a failed warm-up
/// means the model cannot run here, so the process stops with exit code 1 instead of staying up
/// unready forever; in a repository that model is marked failed and the others serve.
/// </summary>
internal sealed partial class EngineWarmUpService(
    ModelRegistry registry,
    IHostApplicationLifetime lifetime,
    ILogger<EngineWarmUpService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var model in registry.Models.OrderBy(m => m == registry.Default ? 0 : 1))
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await model.WarmUpAsync(stoppingToken);
                var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (model.State == ModelState.Ready)
                {
                    LogWarmedUp(logger, model.Name, elapsedMs);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Shut down while warming up: nothing to report.
                return;
            }
            catch (Exception e)
            {
                if (registry.IsRepository)
                {
                    LogModelWarmUpFailed(logger, model.Name, e);
                    continue;
                }

                LogWarmUpFailed(logger, e);
                Environment.ExitCode = 1;
                lifetime.StopApplication();
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Warm-up of {ModelName} done in {ElapsedMs:0} ms; ready")]
    private static partial void LogWarmedUp(ILogger logger, string modelName, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Warm-up failed; stopping")]
    private static partial void LogWarmUpFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Warm-up of {ModelName} failed; it is marked failed and the other models serve")]
    private static partial void LogModelWarmUpFailed(ILogger logger, string modelName, Exception exception);
}
