using System.Text.Json.Nodes;
using CaptionService.Api.Requests;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace CaptionService.Api.OpenApi;

/// <summary>
/// Documents the request body and options of the endpoints marked with <see cref="ImageUploadMetadata"/>:
/// a multipart form with a file field (Swagger UI shows a file picker for it), optionally a raw
/// <c>image/*</c> body, and the caption options as query parameters.
/// </summary>
internal sealed class ImageUploadOperationFilter : IOperationFilter
{
    private static readonly string[] ImageMediaTypes = ["image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp"];

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var upload = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ImageUploadMetadata>().FirstOrDefault();
        if (upload is null)
        {
            return;
        }

        operation.RequestBody = RequestBody(upload);
        if (upload.TakesGenerationOptions)
        {
            operation.Parameters ??= [];
            foreach (var parameter in GenerationOptionParameters())
            {
                operation.Parameters.Add(parameter);
            }
        }
    }

    private static OpenApiRequestBody RequestBody(ImageUploadMetadata upload)
    {
        var form = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { ImageUploadReader.ImageField },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                [ImageUploadReader.ImageField] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Format = "binary",
                    Description = "The image: JPEG, PNG, WebP, GIF (first frame) or BMP.",
                },
            },
        };

        if (upload.TakesTexts)
        {
            form.Required.Add(ScoreTexts.TextField);
            form.Properties[ScoreTexts.TextField] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                MinItems = 1,
                MaxItems = ScoreTexts.MaxTexts,
                Description = $"Statements to score, one per field, 1 to {ScoreTexts.MaxTexts}.",
                Items = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1 },
                Example = new JsonArray("a red square is to the left of a blue circle .", "a blue square is to the left of a red circle ."),
            };
        }

        var content = new Dictionary<string, OpenApiMediaType>
        {
            ["multipart/form-data"] = new() { Schema = form },
        };

        if (upload.AcceptsRawImage)
        {
            content["image/*"] = new()
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Format = "binary",
                    Description = $"The encoded image as the whole body, with its own Content-Type ({string.Join(", ", ImageMediaTypes)}).",
                },
            };
        }

        return new OpenApiRequestBody
        {
            Required = true,
            Description = upload.AcceptsRawImage
                ? "multipart/form-data with the file field `image` (options may also be form fields), or the raw image as the body."
                : "multipart/form-data with the file field `image` and one `text` field per statement.",
            Content = content,
        };
    }

    /// <summary>
    /// No <c>example</c> values: Swagger UI's "Try it out" would send them all, and a sampling
    /// temperature together with beam search is a 400. Defaults are sent, and are greedy decoding.
    /// </summary>
    private static IEnumerable<OpenApiParameter> GenerationOptionParameters()
    {
        yield return Option(GenerationOptionsParser.MaxTokens, JsonSchemaType.Integer, "Most tokens to generate, end-of-sequence excluded, e.g. 20; default the model's maximum.", minimum: "1");
        yield return Option(GenerationOptionsParser.Beams, JsonSchemaType.Integer, "Beam width, 1 (greedy) to 8, e.g. 4.", minimum: "1", maximum: "8", defaultValue: 1);
        yield return Option(GenerationOptionsParser.Alternatives, JsonSchemaType.Integer, "How many of the best captions to return, 1 to `beams`, e.g. 2.", minimum: "1", maximum: "8", defaultValue: 1);
        yield return Option(GenerationOptionsParser.Temperature, JsonSchemaType.Number, "Sample with this temperature (> 0), e.g. 0.7, instead of decoding greedily.");
        yield return Option(GenerationOptionsParser.TopK, JsonSchemaType.Integer, "When sampling, only among the K most likely tokens, e.g. 5.", minimum: "1");
        yield return Option(GenerationOptionsParser.TopP, JsonSchemaType.Number, "When sampling, only among the smallest token set whose probability reaches P (0 < P <= 1), e.g. 0.9.", maximum: "1");
        yield return Option(GenerationOptionsParser.Seed, JsonSchemaType.Integer, "Seed for reproducible sampling, e.g. 42.");
    }

    private static OpenApiParameter Option(string name, JsonSchemaType type, string description, string? minimum = null, string? maximum = null, int? defaultValue = null) => new()
    {
        Name = name,
        In = ParameterLocation.Query,
        Required = false,
        Description = description + " May also be sent as a form field.",
        Schema = new OpenApiSchema
        {
            Type = type,
            Format = type == JsonSchemaType.Integer ? "int32" : "double",
            Minimum = minimum,
            Maximum = maximum,
            Default = defaultValue is { } value ? JsonValue.Create(value) : null,
        },
    };
}
