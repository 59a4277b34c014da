using System.Reflection;
using Microsoft.OpenApi;
using CaptionService.Api.Warnings;

namespace CaptionService.Api.OpenApi;

/// <summary>OpenAPI document at /swagger/v1/swagger.json and Swagger UI at /swagger.</summary>
internal static class ApiDocumentationExtensions
{
    private const string DocumentName = "v1";

    public static WebApplicationBuilder AddApiDocumentation(this WebApplicationBuilder builder)
    {
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc(DocumentName, new OpenApiInfo
            {
                Title = "CaptionService",
                Version = DocumentName,
                Description = "Image captioning and image-text matching on ONNX Runtime. The default model knows ShapeWorld scenes only: coloured shapes and their spatial relations.",
            });

            // Property summaries and <example> values of the response contracts.
            var xmlDocs = Path.Combine(AppContext.BaseDirectory, Assembly.GetExecutingAssembly().GetName().Name + ".xml");
            if (File.Exists(xmlDocs))
            {
                options.IncludeXmlComments(xmlDocs);
            }

            options.SupportNonNullableReferenceTypes();
            options.OperationFilter<ImageUploadOperationFilter>();
            options.OperationFilter<ProblemResponsesOperationFilter>();
            options.OperationFilter<ModelNamesOperationFilter>();
            options.SchemaFilter<LoadedModelExamplesSchemaFilter>();
            options.SchemaFilter<WarningSchemaFilter>();
            options.DocumentFilter<SecurityDocumentFilter>();
            options.DocumentFilter<TagDescriptionsDocumentFilter>();
            options.AddServer(new OpenApiServer { Url = "/", Description = "This server" });
        });
        return builder;
    }

    public static WebApplication UseApiDocumentation(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(options =>
        {
            options.SwaggerEndpoint($"/swagger/{DocumentName}/swagger.json", "CaptionService v1");
            options.DocumentTitle = "CaptionService API";
        });
        return app;
    }
}
