using CaptionService.Api.Hosting;
using System.Globalization;
using System.Threading.RateLimiting;
using CaptionService.Api.Errors;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Security;

/// <summary>
/// ASP.NET Core's rate limiter, one fixed window per client (<see cref="RateLimitOptions"/>), on
/// the inference endpoints. Past the limit: 429 problem+json with <c>Retry-After</c> and the
/// <c>RateLimit-Limit</c>, <c>RateLimit-Remaining</c> and <c>RateLimit-Reset</c> headers.
/// </summary>
internal static class RateLimitExtensions
{
    /// <summary>The policy name the inference endpoints carry.</summary>
    public const string InferencePolicy = "inference";

    public static WebApplicationBuilder AddClientRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<RateLimitOptions>(RateLimitOptions.SectionName);
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((limiter, settings) =>
        {
            var limits = settings.Value;
            limiter.AddPolicy(InferencePolicy, context => limits.PermitsPerWindow == 0
                ? RateLimitPartition.GetNoLimiter(string.Empty)
                : RateLimitPartition.GetFixedWindowLimiter(ClientOf(context), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.PermitsPerWindow,
                    Window = limits.Window,
                    QueueLimit = 0,
                }));
            limiter.OnRejected = (rejected, cancellationToken) => RejectAsync(rejected, limits, cancellationToken);
        });
        return builder;
    }

    /// <summary>The client a request counts against: its API key's hash when it sent one, else its address.</summary>
    private static string ClientOf(HttpContext context)
    {
        var key = context.Request.Headers[ApiKeyMiddleware.HeaderName].ToString();
        var authorization = context.Request.Headers.Authorization.ToString();
        var credential = key.Length > 0 ? key : authorization;
        return credential.Length > 0
            ? "key:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(credential)))
            : "address:" + context.Connection.RemoteIpAddress;
    }

    private static async ValueTask RejectAsync(OnRejectedContext rejected, RateLimitOptions limits, CancellationToken cancellationToken)
    {
        var response = rejected.HttpContext.Response;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : limits.Window;
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = seconds;
        response.Headers["RateLimit-Limit"] = limits.PermitsPerWindow.ToString(CultureInfo.InvariantCulture);
        response.Headers["RateLimit-Remaining"] = "0";
        response.Headers["RateLimit-Reset"] = seconds;
        var problems = rejected.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = rejected.HttpContext,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = ProblemTitles.RateLimited,
                Detail = $"This client sent more than {limits.PermitsPerWindow} requests in {limits.Window}; retry after {seconds} s.",
            },
        });
    }
}
