using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace CaptionService.Api.Health;

/// <summary>
/// <c>GET /health/live</c>: the process answers (no checks, so a slow model never gets it killed).
/// <c>GET /health/ready</c>: 200 once warmed up, 503 before and again while draining.
/// </summary>
internal static class HealthProbeExtensions
{
    private const string ReadyTag = "ready";

    public static WebApplicationBuilder AddHealthProbes(this WebApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks().AddCheck<ReadinessHealthCheck>("model", tags: [ReadyTag]);
        return builder;
    }

    public static WebApplication MapHealthProbes(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = HealthResponseWriter.WriteAsync,
        }).WithTags("Health").WithSummary("Liveness probe");

        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = HealthResponseWriter.WriteAsync,
        }).WithTags("Health").WithSummary("Readiness probe");

        return app;
    }
}
