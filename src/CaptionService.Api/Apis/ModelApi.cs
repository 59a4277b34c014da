using CaptionService.Api.Contracts;
using CaptionService.Inference;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CaptionService.Api.Apis;

/// <summary><c>GET /model</c>: what is loaded and how it runs.</summary>
internal static class ModelApi
{
    public static IEndpointRouteBuilder MapModelApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/model", GetModel)
            .WithTags("Model")
            .WithName("GetModel")
            .WithSummary("Describe the loaded model")
            .WithDescription("The default model (`GET /v1/models` lists every model): name and version of the model package, the execution provider in use (CUDA or CPU), the image input size, the vocabulary size and the batching settings.");
        return app;
    }

    private static Ok<ModelDescription> GetModel(ICaptionEngine engine) => TypedResults.Ok(ModelDescription.From(engine.Model));
}
