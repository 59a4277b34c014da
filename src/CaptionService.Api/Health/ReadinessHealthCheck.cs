using CaptionService.Api.Draining;
using CaptionService.Inference;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CaptionService.Api.Health;

/// <summary>
/// Ready when the engine has warmed up, no stage is stuck in a batch past the batch timeout, and
/// the server is not draining. A stuck stage answers nothing until its batch returns, so a load
/// balancer should send requests elsewhere meanwhile; readiness turns true again once it returns.
/// </summary>
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

        if (engine.StuckStages is { Count: > 0 } stuck)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(
                $"Stuck: the {string.Join(" and ", stuck)} stage's running batch has not returned within the batch timeout; ready again once it does."));
        }

        var model = engine.Model;
        return Task.FromResult(HealthCheckResult.Healthy($"{model.Identity.Name} {model.Identity.Version} on {model.ExecutionProvider}."));
    }
}
