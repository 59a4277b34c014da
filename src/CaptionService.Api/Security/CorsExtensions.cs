using Microsoft.Extensions.Options;

namespace CaptionService.Api.Security;

/// <summary>Cross-origin calls from the origins in <see cref="SecurityOptions.AllowedOrigins"/> only.</summary>
internal static class CorsExtensions
{
    public static WebApplicationBuilder AddCrossOriginPolicy(this WebApplicationBuilder builder)
    {
        builder.Services.AddCors();
        builder.Services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<SecurityOptions>>((cors, security) => cors.AddDefaultPolicy(policy => policy
                .WithOrigins([.. security.Value.AllowedOrigins])
                .WithMethods(HttpMethods.Get, HttpMethods.Post)
                .WithHeaders("Content-Type", "Authorization", ApiKeyMiddleware.HeaderName)
                .WithExposedHeaders("Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "WWW-Authenticate")));
        return builder;
    }
}
