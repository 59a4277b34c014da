using System.Text.Json.Nodes;
using CaptionService.Api.Apis;
using CaptionService.Api.Models;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace CaptionService.Api.OpenApi;

/// <summary>
/// The <c>{name}</c> route parameter of the <c>/v1/models/{name}</c> operations lists this server's
/// model names (an enum, with the default as the default), so Swagger UI offers them in a drop-down.
/// Routes whose handler binds the model itself (<see cref="RoutedModel"/>) get the parameter added.
/// </summary>
internal sealed class ModelNamesOperationFilter(ModelRegistry registry) : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.RelativePath?.StartsWith($"v1/models/{{{RoutedModel.RouteParameter}}}", StringComparison.Ordinal) != true)
        {
            return;
        }

        operation.Parameters ??= [];
        var parameter = operation.Parameters.OfType<OpenApiParameter>().FirstOrDefault(p => p.Name == RoutedModel.RouteParameter && p.In == ParameterLocation.Path);
        if (parameter is null)
        {
            parameter = new OpenApiParameter { Name = RoutedModel.RouteParameter, In = ParameterLocation.Path };
            operation.Parameters.Insert(0, parameter);
        }

        parameter.Required = true;
        parameter.Description = "The model's name (`GET /v1/models` lists them).";
        parameter.Schema = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Enum = [.. registry.Names.Select(name => (JsonNode)JsonValue.Create(name))],
            Default = JsonValue.Create(registry.Default.Name),
        };
    }
}
