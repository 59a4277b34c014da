using System.Text.Json;
using CaptionService.Api.Contracts;
using CaptionService.Api.Models;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace CaptionService.Api.OpenApi;

/// <summary>
/// Examples of the schemas that describe the loaded model are that model's real values (name,
/// version, provider, sizes, batching), so the document never shows another package's version.
/// The default model's; none while it has no version serving.
/// </summary>
internal sealed class LoadedModelExamplesSchemaFilter(ModelRegistry registry) : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete || registry.Default.Info is not { } info)
        {
            return;
        }

        var model = ModelDescription.From(info);
        object? example = context.Type switch
        {
            var t when t == typeof(ModelDescription) => model,
            var t when t == typeof(ModelSummary) => ModelSummary.From(info.Identity),
            var t when t == typeof(ImageSize) => model.InputSize,
            var t when t == typeof(BatchingDescription) => model.Batching,
            _ => null,
        };
        if (example is not null)
        {
            concrete.Example = JsonSerializer.SerializeToNode(example, example.GetType(), JsonSerializerOptions.Web);
        }
    }
}
