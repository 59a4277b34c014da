using System.Diagnostics;
using System.Globalization;
using CaptionService.Api.Hosting;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Serilog;

namespace CaptionService.Api.Observability;

/// <summary>Serilog as the only log sink, and one log event per HTTP request.</summary>
internal static class SerilogExtensions
{
    private const string TextTemplate =
        "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    private const string RequestTemplate =
        "HTTP {RequestMethod} {RequestPath} ({Route}) responded {StatusCode} in {Elapsed:0.0} ms, trace {TraceId}";

    public static WebApplicationBuilder AddSerilogLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<LoggingOptions>(LoggingOptions.SectionName);

        IConfiguration configuration = builder.Configuration;

        // preserveStaticLogger: each host owns its logger, so that several hosts in one process
        // (the functional tests) do not replace each other's static Log.Logger.
        builder.Services.AddSerilog(
            (_, logger) =>
            {
                // The "Serilog" section may set levels and enrichers; the sink is chosen here.
                logger.ReadFrom.Configuration(configuration)
                    .Enrich.FromLogContext();

                if (ConfiguredFormat(configuration) == LogFormat.Json)
                {
                    logger.WriteTo.Console(new RenderedCompactJsonFormatter());
                }
                else
                {
                    logger.WriteTo.Console(outputTemplate: TextTemplate, formatProvider: CultureInfo.InvariantCulture);
                }
            },
            preserveStaticLogger: true);

        return builder;
    }

    /// <summary>
    /// The logger is built before the start-up check, which must be able to log that the format
    /// is invalid; so an unknown value falls back to text here instead of throwing.
    /// </summary>
    private static LogFormat ConfiguredFormat(IConfiguration configuration) =>
        Enum.TryParse<LogFormat>(configuration[$"{LoggingOptions.SectionName}:{nameof(LoggingOptions.Format)}"], ignoreCase: true, out var format)
            ? format
            : LogFormat.Text;

    /// <summary>One event per request with method, path, route, status, elapsed time and trace id.</summary>
    public static WebApplication UseRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            // This host's logger: the static Log.Logger is left alone (see AddSerilogLogging).
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            options.MessageTemplate = RequestTemplate;
            options.EnrichDiagnosticContext = (diagnostics, context) =>
            {
                diagnostics.Set("Route", (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "no route");
                diagnostics.Set("TraceId", Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier);
            };
            options.GetLevel = RequestLevel;
        });
        return app;
    }

    /// <summary>
    /// Server faults are errors; 503 (warming up, draining, overloaded) is a warning. Probes and
    /// scrapes arrive every few seconds, so they are logged only at Verbose unless the server failed.
    /// </summary>
    private static LogEventLevel RequestLevel(HttpContext context, double elapsedMs, Exception? exception)
    {
        var status = context.Response.StatusCode;
        if (exception is not null || (status >= StatusCodes.Status500InternalServerError && status != StatusCodes.Status503ServiceUnavailable))
        {
            return LogEventLevel.Error;
        }

        var path = context.Request.Path;
        if (path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase))
        {
            return LogEventLevel.Verbose;
        }

        return status == StatusCodes.Status503ServiceUnavailable ? LogEventLevel.Warning : LogEventLevel.Information;
    }
}
