using CaptionService.Api.Draining;
using CaptionService.Inference;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CaptionService.Api.Health;

/// <summary>Ready when the engine has warmed up and the server is not draining.</summary>
internal sealed class ReadinessHealthCheck(ICaptionEngine engine, RequestDrain drain) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (drain.IsDraining)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Draining: shutting down, finishing the requests in flight."));
        }

        if (!engine.IsWarm)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Warming up the model."));
        }

        var model = engine.Model;
        return Task.FromResult(HealthCheckResult.Healthy($"{model.Identity.Name} {model.Identity.Version} on {model.ExecutionProvider}."));
    }
}
