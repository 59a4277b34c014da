using CaptionService.Api.Errors;
using CaptionService.Api.Models;

namespace CaptionService.Api.Apis;

/// <summary>
/// The model an inference request addresses: the one named by the route's <c>{name}</c>
/// (<c>/v1/models/{name}/caption</c>), or the default on routes without one (<c>/caption</c>).
/// Bound before any filter runs, so an unknown name is a 404 before a byte of the body is read.
/// </summary>
internal sealed class RoutedModel(HostedModel model)
{
    public const string RouteParameter = "name";

    public HostedModel Model => model;

    /// <exception cref="ClientRequestException">404: no model has that name.</exception>
    public static ValueTask<RoutedModel?> BindAsync(HttpContext context)
    {
        var registry = context.RequestServices.GetRequiredService<ModelRegistry>();
        return ValueTask.FromResult<RoutedModel?>(new RoutedModel(Find(registry, context.GetRouteValue(RouteParameter) as string)));
    }

    /// <summary>The named model, or the default for null.</summary>
    /// <exception cref="ClientRequestException">404: no model has that name.</exception>
    public static HostedModel Find(ModelRegistry registry, string? name)
    {
        if (name is null)
        {
            return registry.Default;
        }

        return registry.TryGet(name, out var model)
            ? model
            : throw new ClientRequestException(StatusCodes.Status404NotFound, ProblemTitles.UnknownModel,
                $"No model is named '{name}'. This server serves: {string.Join(", ", registry.Names)} (GET /v1/models).");
    }
}
