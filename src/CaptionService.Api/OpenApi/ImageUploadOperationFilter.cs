using System.Globalization;
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
        if (upload.Options.Count > 0)
        {
            operation.Parameters ??= [];
            foreach (var parameter in OptionParameters(upload.Options))
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
    /// Written from the endpoint's catalog (<see cref="GenerationOptionCatalog"/>, <see cref="ScoreOptionCatalog"/>).
    /// No <c>example</c> values: Swagger UI's "Try it out" would send them all, and a sampling
    /// temperature together with beam search is a 400. The typical value goes in the description
    /// instead; defaults are sent, and are greedy.
    /// </summary>
    private static IEnumerable<OpenApiParameter> OptionParameters(IReadOnlyList<RequestOption> options) =>
        options.Select(option => new OpenApiParameter
        {
            Name = option.Name,
            In = ParameterLocation.Query,
            Required = false,
            Description = $"{option.Meaning} For example {option.Example}. May also be sent as a form field.",
            Schema = Schema(option),
        });

    private static OpenApiSchema Schema(RequestOption option) => option.Kind switch
    {
        OptionKind.Boolean => new OpenApiSchema { Type = JsonSchemaType.Boolean },
        OptionKind.Choice => new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Enum = [.. option.Choices!.Select(choice => (JsonNode)JsonValue.Create(choice))],
        },
        _ => new OpenApiSchema
        {
            Type = option.Kind == OptionKind.Integer ? JsonSchemaType.Integer : JsonSchemaType.Number,
            Format = option.Kind == OptionKind.Integer ? "int32" : "double",
            Minimum = Bound(option.Minimum),
            Maximum = Bound(option.Maximum),
            Default = option.Default is { } value ? JsonValue.Create(value) : null,
        },
    };

    private static string? Bound(double? value) => value?.ToString(CultureInfo.InvariantCulture);
}
