using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace CaptionService.Api.OpenApi;

/// <summary>A sentence for each group of operations in Swagger UI.</summary>
internal sealed class TagDescriptionsDocumentFilter : IDocumentFilter
{
    private static readonly Dictionary<string, string> Descriptions = new()
    {
        ["Inference"] = "What the model says about an image: captions and the fusion score of statements.",
        ["Model"] = "The default model's package and how it runs.",
        ["Models"] = "Every model this server serves, by name, and reloading one's package.",
        ["Health"] = "Liveness and readiness probes; always open.",
    };

    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        document.Tags = new HashSet<OpenApiTag>(
            (document.Tags ?? new HashSet<OpenApiTag>()).Select(tag => new OpenApiTag
            {
                Name = tag.Name,
                Description = tag.Name is { } name && Descriptions.TryGetValue(name, out var description) ? description : tag.Description,
            }));
    }
}
