using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace CaptionService.Api.OpenApi;

/// <summary>A sentence for each group of operations in Swagger UI.</summary>
internal sealed class TagDescriptionsDocumentFilter : IDocumentFilter
{
    private static readonly Dictionary<string, string> Descriptions = new()
    {
        ["Inference"] = "What the model says about an image: captions and the fusion score of statements.",
        ["Model"] = "The loaded model package and how it runs.",
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
