using CaptionService.Inference;
using Prometheus;

namespace CaptionService.Api.Observability;

/// <summary>
/// <c>GET /metrics</c> in Prometheus text format: HTTP requests by endpoint and status
/// (prometheus-net's middleware), process and runtime metrics (prometheus-net's defaults), and the
/// engine's meter through <see cref="EngineMeterExporter"/>: captionservice_queue_time,
/// captionservice_batch_size, and so on.
/// </summary>
internal static class PrometheusMetricsExtensions
{
    public static WebApplicationBuilder AddPrometheusMetrics(this WebApplicationBuilder builder)
    {
        // prometheus-net's MeterAdapter would publish every meter, ASP.NET Core's too (repeating the
        // HTTP metrics), with type names in the HELP texts; the engine's meter has its own exporter.
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true });
        EngineMeterExporter.EnsureStarted();
        return builder;
    }

    /// <summary>Counts requests with their route pattern as the endpoint label; goes after routing.</summary>
    public static WebApplication UseHttpRequestMetrics(this WebApplication app)
    {
        app.UseHttpMetrics();
        return app;
    }

    public static WebApplication MapPrometheusMetrics(this WebApplication app)
    {
        app.MapMetrics("/metrics");
        return app;
    }
}
