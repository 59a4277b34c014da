using System.Text.Json.Nodes;
using CaptionService.Api.Contracts;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace CaptionService.Api.Warnings;

/// <summary>
/// The <c>code</c> of <see cref="ResponseWarning"/> in the OpenAPI document: an enum of
/// <see cref="WarningCatalog"/>'s codes, described with their meanings, word for word as in the README.
/// </summary>
internal sealed class WarningSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (context.Type != typeof(ResponseWarning) || schema is not OpenApiSchema concrete
            || concrete.Properties?.TryGetValue("code", out var code) != true || code is not OpenApiSchema codeSchema)
        {
            return;
        }

        codeSchema.Enum = [.. WarningCatalog.All.Select(kind => (JsonNode)JsonValue.Create(kind.Code))];
        codeSchema.Description = "What kind of warning:\n\n" + string.Join("\n", WarningCatalog.All.Select(kind => $"- `{kind.Code}`: {kind.Meaning}"));
    }
}
