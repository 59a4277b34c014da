using CaptionService.Api.Draining;
using CaptionService.Api.Models;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CaptionService.Api.Health;

/// <summary>
/// Ready when the default model has warmed up, none of its stages is stuck in a batch past the
/// batch timeout, and the server is not draining. A stuck stage answers nothing until its batch
/// returns, so a load balancer should send requests elsewhere meanwhile; readiness turns true again
/// once it returns. Other models do not count: one that failed or is still warming up answers 503
/// on its own routes, and <c>GET /v1/models</c> says why.
/// </summary>
internal sealed class ReadinessHealthCheck(ModelRegistry registry, RequestDrain drain) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (drain.IsDraining)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Draining: shutting down, finishing the requests in flight."));
        }

        var engine = registry.Default;
        if (engine.Failure is { } failure)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"The default model {engine.Name} failed to load: {failure}"));
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
        var others = registry.Models.Count - 1;
        var notReady = registry.Models.Count(m => m.State != ModelState.Ready);
        var more = others == 0 ? "" : $" {others} other models, {notReady} not ready (GET /v1/models).";
        return Task.FromResult(HealthCheckResult.Healthy($"{model.Identity.Name} {model.Identity.Version} on {model.ExecutionProvider}.{more}"));
    }
}
