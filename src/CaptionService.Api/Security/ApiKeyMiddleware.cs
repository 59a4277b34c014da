using CaptionService.Api.Errors;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CaptionService.Api.Security;

/// <summary>
/// Refuses requests without an accepted API key (<c>Authorization: Bearer KEY</c> or
/// <c>X-API-Key: KEY</c>) with 401 problem+json and <c>WWW-Authenticate</c>, before the body is
/// read. Probes are always open; <c>/metrics</c> and <c>/swagger</c> as configured.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, ApiKeyRing keys, IOptions<SecurityOptions> options, IProblemDetailsService problems)
{
    public const string HeaderName = "X-API-Key";

    private readonly SecurityOptions _options = options.Value;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!keys.IsEnabled || IsOpen(context.Request.Path) || PresentedKey(context.Request) is { } key && keys.Accepts(key))
        {
            await next(context);
            return;
        }

        var missing = PresentedKey(context.Request) is null;
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = missing
            ? $"Bearer realm=\"{_options.Realm}\""
            : $"Bearer realm=\"{_options.Realm}\", error=\"invalid_token\"";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = ProblemTitles.Unauthorized,
                Detail = missing
                    ? $"This server requires an API key: send 'Authorization: Bearer <key>' or '{HeaderName}: <key>'."
                    : "The API key is not accepted.",
            },
        });
    }

    private bool IsOpen(PathString path) =>
        path.StartsWithSegments("/health")
        || (_options.OpenMetrics && path.StartsWithSegments("/metrics"))
        || (_options.OpenSwagger && path.StartsWithSegments("/swagger"));

    private static string? PresentedKey(HttpRequest request)
    {
        var header = request.Headers[HeaderName].ToString();
        if (header.Length > 0)
        {
            return header;
        }

        var authorization = request.Headers[HeaderNames.Authorization].ToString();
        const string Bearer = "Bearer ";
        return authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) && authorization.Length > Bearer.Length
            ? authorization[Bearer.Length..].Trim()
            : null;
    }
}
