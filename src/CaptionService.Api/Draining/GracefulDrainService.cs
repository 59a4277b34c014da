using Microsoft.Extensions.Options;

namespace CaptionService.Api.Draining;

/// <summary>
/// On shutdown (SIGTERM, Ctrl+C), before Kestrel stops listening: turns readiness false, refuses
/// new inference requests with 503, and waits up to <see cref="ShutdownOptions.DrainTimeout"/> for
/// the accepted ones to finish. Kestrel's own graceful stop, and the engine's disposal, come after.
/// </summary>
internal sealed partial class GracefulDrainService(
    RequestDrain drain,
    IOptions<ShutdownOptions> options,
    ILogger<GracefulDrainService> logger) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var timeout = options.Value.DrainTimeout;
        var idle = drain.BeginDrainAsync();
        LogDrainStarted(logger, drain.InFlight, timeout);
        try
        {
            await idle.WaitAsync(timeout, cancellationToken);
            LogDrainCompleted(logger);
        }
        catch (TimeoutException)
        {
            LogDrainTimedOut(logger, drain.InFlight, timeout);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host's shutdown timeout ran out first; it stops the server now.
            LogDrainTimedOut(logger, drain.InFlight, timeout);
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Draining: readiness is false, new requests get 503; waiting for {InFlight} in-flight requests (at most {DrainTimeout})")]
    private static partial void LogDrainStarted(ILogger logger, int inFlight, TimeSpan drainTimeout);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained: no request in flight, stopping")]
    private static partial void LogDrainCompleted(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drain timed out with {InFlight} requests still in flight after {DrainTimeout}; stopping anyway")]
    private static partial void LogDrainTimedOut(ILogger logger, int inFlight, TimeSpan drainTimeout);
}
