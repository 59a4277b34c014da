using CaptionService.Inference;
using Prometheus;

namespace CaptionService.Api.Observability;

/// <summary>
/// <c>GET /metrics</c> in Prometheus text format: HTTP requests by endpoint and status
/// (prometheus-net's middleware), process and runtime metrics (prometheus-net's defaults), and the
/// engine's meter through prometheus-net's MeterAdapter, which names each metric
/// meter_instrument: captionservice_queue_time, captionservice_batch_size, and so on.
/// </summary>
internal static class PrometheusMetricsExtensions
{
    private static readonly double[] MillisecondBuckets = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
    private static readonly double[] BatchSizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128];
    private static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    public static WebApplicationBuilder AddPrometheusMetrics(this WebApplicationBuilder builder)
    {
        // The default buckets (0.005 to 10) suit seconds; the engine records milliseconds and batch sizes.
        Metrics.ConfigureMeterAdapter(options =>
        {
            // Only the engine's meter: ASP.NET Core's own meters would repeat the HTTP metrics above.
            options.InstrumentFilterPredicate = instrument => instrument.Meter.Name == EngineMetrics.MeterName;
            options.ResolveHistogramBuckets = instrument => instrument.Unit switch
            {
                "ms" => MillisecondBuckets,
                "{request}" => BatchSizeBuckets,
                _ => DefaultBuckets,
            };
        });

        // prometheus-net wires the MeterAdapter into its default registry on the first collection;
        // measurements recorded before that (warm-up, requests before the first scrape) would be lost.
        Metrics.DefaultRegistry.CollectAndExportAsTextAsync(Stream.Null).GetAwaiter().GetResult();
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
