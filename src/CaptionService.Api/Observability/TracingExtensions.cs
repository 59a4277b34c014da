using System.Diagnostics;
using CaptionService.Inference;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CaptionService.Api.Observability;

/// <summary>
/// OpenTelemetry traces: ASP.NET Core's server spans (W3C <c>traceparent</c> in), the engine's
/// queue, batch and decoder-step spans (<see cref="EngineTracing"/>), and the request's
/// <c>traceparent</c> back in every response. Exported over OTLP when the standard variables name
/// an endpoint (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>,
/// with the other <c>OTEL_*</c> settings read by the exporter itself).
/// </summary>
internal static class TracingExtensions
{
    private const string ServiceName = "captionservice";

    public static WebApplicationBuilder AddTracing(this WebApplicationBuilder builder)
    {
        var exportOtlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
            || !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithTracing(tracing =>
            {
                // Probes and scrapes would be most of the spans and say nothing.
                tracing.AddAspNetCoreInstrumentation(options => options.Filter = context =>
                    !context.Request.Path.StartsWithSegments("/health") && !context.Request.Path.StartsWithSegments("/metrics"));
                tracing.AddSource(EngineTracing.SourceName);
                if (exportOtlp)
                {
                    tracing.AddOtlpExporter();
                }
            });
        return builder;
    }

    /// <summary>Answers with the request's <c>traceparent</c>, so that a client can find its trace.</summary>
    public static WebApplication UseTraceparentResponseHeader(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            var activity = Activity.Current;
            if (activity is { IdFormat: ActivityIdFormat.W3C })
            {
                context.Response.OnStarting(() =>
                {
                    context.Response.Headers["traceparent"] = activity.Id;
                    return Task.CompletedTask;
                });
            }

            return next(context);
        });
        return app;
    }
}
