using System.Globalization;
using CaptionService.Api.Security;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace CaptionService.Api.OpenApi;

/// <summary>
/// Says in the document what <see cref="ApiKeyMiddleware"/> enforces: with keys on, the two ways to
/// send one (Swagger UI's "Authorize" button offers both) on every protected operation, with its
/// 401; with keys off, that operations need none.
/// </summary>
internal sealed class SecurityDocumentFilter(ApiKeyRing keys) : IDocumentFilter
{
    private const string ApiKeyScheme = "ApiKey";
    private const string BearerScheme = "Bearer";

    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        if (!keys.IsEnabled)
        {
            // An empty requirement: no credentials needed.
            document.Security = [new OpenApiSecurityRequirement()];
            return;
        }

        // AddComponent also registers the schemes with the document's workspace; references to a
        // scheme that is only in Components serialize as empty requirements ("no credentials").
        document.AddComponent<IOpenApiSecurityScheme>(ApiKeyScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyMiddleware.HeaderName,
            Description = "An API key in the X-API-Key header.",
        });
        document.AddComponent<IOpenApiSecurityScheme>(BearerScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key as a bearer token: Authorization: Bearer <key>.",
        });

        var unauthorized = StatusCodes.Status401Unauthorized.ToString(CultureInfo.InvariantCulture);
        foreach (var (path, item) in document.Paths)
        {
            if (path.StartsWith("/health", StringComparison.Ordinal) || item.Operations is null)
            {
                continue;
            }

            foreach (var operation in item.Operations.Values)
            {
                operation.Security =
                [
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, document)] = [] },
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] },
                ];
                operation.Responses ??= [];
                operation.Responses[unauthorized] = new OpenApiResponse
                {
                    Description = "No API key, or one the server does not accept (problem+json, with WWW-Authenticate).",
                };
            }
        }
    }
}
