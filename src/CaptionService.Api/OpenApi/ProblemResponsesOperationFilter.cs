using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace CaptionService.Api.OpenApi;

/// <summary>
/// Gives each documented problem response its sentence and titles (from <see cref="ProblemResponseMetadata"/>),
/// an example body with the title the server sends, and the Retry-After header where the server sends one.
/// </summary>
internal sealed class ProblemResponsesOperationFilter : IOperationFilter
{
    private const string ProblemJson = "application/problem+json";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.Responses is null)
        {
            return;
        }

        foreach (var problem in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ProblemResponseMetadata>())
        {
            var key = problem.StatusCode.ToString(CultureInfo.InvariantCulture);
            if (operation.Responses.TryGetValue(key, out var response) && response is OpenApiResponse documented)
            {
                documented.Description = $"{problem.Description} Title: {string.Join(" or ", problem.Titles.Select(t => $"`{t}`"))}.";
                if (documented.Content?.TryGetValue(ProblemJson, out var mediaType) == true)
                {
                    mediaType.Example = Example(problem, context.ApiDescription.RelativePath);
                }

                if (problem.StatusCode is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable)
                {
                    documented.Headers ??= new Dictionary<string, IOpenApiHeader>();
                    documented.Headers["Retry-After"] = new OpenApiHeader
                    {
                        Description = "Seconds to wait before retrying.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
                    };
                }
            }
        }
    }

    private static JsonObject Example(ProblemResponseMetadata problem, string? path) => new()
    {
        ["type"] = "https://tools.ietf.org/html/rfc9110",
        ["title"] = problem.Titles[0],
        ["status"] = problem.StatusCode,
        ["detail"] = problem.Description,
        ["instance"] = "/" + path,
        ["traceId"] = "4bf92f3577b34da6a3ce929d0e0e4736",
    };
}
