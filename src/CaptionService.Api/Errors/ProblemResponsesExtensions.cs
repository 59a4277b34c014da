using System.Diagnostics;

namespace CaptionService.Api.Errors;

/// <summary>Every error the host writes, including 404, 405 and unexpected faults, is application/problem+json.</summary>
internal static class ProblemResponsesExtensions
{
    public static WebApplicationBuilder AddProblemResponses(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            // The trace id lets a client's bug report be matched to the server's request log line
            // and to its exported trace: the 32 hex digits both carry, in place of ASP.NET's own
            // "traceId", which is the whole traceparent (version, trace, span and flags).
            context.ProblemDetails.Extensions["traceId"] = Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier;
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
        });
        builder.Services.AddExceptionHandler<ClientErrorExceptionHandler>();
        builder.Services.AddExceptionHandler<ServerFaultExceptionHandler>(); // after the client errors: it takes every other exception
        return builder;
    }

    public static WebApplication UseProblemResponses(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }
}
