using CaptionService.Api.Contracts;
using CaptionService.Api.Errors;
using CaptionService.Api.Models;
using CaptionService.Api.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CaptionService.Api.Apis;

/// <summary>
/// <c>GET /v1/models</c>, <c>GET /v1/models/{name}</c> and <c>POST /v1/models/{name}/reload</c>: the
/// models this server serves, and a reload on demand (on the management port when one is set).
/// Their inference routes are mapped with <see cref="InferenceApi"/>.
/// </summary>
internal static class ModelsApi
{
    public const string ReloadSegment = "reload";

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/v1/models").WithTags("Models");
        var unknown = new ProblemResponseMetadata(StatusCodes.Status404NotFound, "No model has this name; `GET /v1/models` lists them.", ProblemTitles.UnknownModel);

        models.MapGet("/", ListModels)
            .WithName("ListModels")
            .WithSummary("List the models")
            .WithDescription("Every model of this server: its name (the route segment of `/v1/models/{name}/caption` and `/score`), whether it is the default, its state (`loading`, `ready` or `failed`, with the reason), kind, package version, execution provider and latest reload.");

        models.MapGet($"/{{{RoutedModel.RouteParameter}}}", GetModel)
            .WithName("GetNamedModel")
            .WithSummary("Describe one model")
            .WithDescription("The state, kind, version and latest reload of the model named `name`.")
            .ProducesProblems(unknown);

        models.MapPost($"/{{{RoutedModel.RouteParameter}}}/{ReloadSegment}", ReloadAsync)
            .WithName("ReloadModel")
            .WithSummary("Reload a model's package")
            .WithDescription("""
                Loads the package as it is now on disk beside the serving version, validates it (manifest
                sha256s, graph inputs and outputs) and warms it up, then swaps it in: requests in flight
                finish on the old version, which is disposed after the last one. A package that fails any
                step is refused and the serving version stays. Served on the management port when
                `CaptionService:Management:Port` is set, and needs an API key when keys are configured.
                The server also reloads a package by itself when its files change.
                """)
            .ProducesProblems(
                unknown,
                new(StatusCodes.Status422UnprocessableEntity, "The package on disk cannot be loaded, validated or warmed up; the detail says why, and the previous version keeps serving.", ProblemTitles.ReloadRefused));
        return app;
    }

    private static Ok<ModelList> ListModels(ModelRegistry registry) => TypedResults.Ok(new ModelList
    {
        Default = registry.Default.Name,
        Models = [.. registry.Models.Select(m => ModelStatus.From(m, m == registry.Default))],
    });

    private static Results<Ok<ModelStatus>, ProblemHttpResult> GetModel(string name, ModelRegistry registry, HttpResponse response)
    {
        try
        {
            var model = RoutedModel.Find(registry, name);
            return TypedResults.Ok(ModelStatus.From(model, model == registry.Default));
        }
        catch (ClientRequestException e)
        {
            return ProblemMapping.ToProblem(e, response);
        }
    }

    private static async Task<Results<Ok<ModelStatus>, ProblemHttpResult>> ReloadAsync(
        string name, ModelRegistry registry, HttpResponse response, CancellationToken cancellationToken)
    {
        try
        {
            var model = RoutedModel.Find(registry, name);
            var outcome = await model.ReloadAsync("request", force: true, cancellationToken);
            if (outcome is { Succeeded: false })
            {
                throw new ClientRequestException(StatusCodes.Status422UnprocessableEntity, ProblemTitles.ReloadRefused,
                    $"The package of model '{model.Name}' was not swapped in, version {model.Info?.Identity.Version ?? "(none)"} keeps serving: {outcome.Error}");
            }

            return TypedResults.Ok(ModelStatus.From(model, model == registry.Default));
        }
        catch (ClientRequestException e)
        {
            return ProblemMapping.ToProblem(e, response);
        }
    }
}
