using CaptionService.Api.Apis;
using CaptionService.Api.Errors;
using CaptionService.Api.Models;

namespace CaptionService.Api.Draining;

/// <summary>
/// Admits an inference request only while the server is ready and its model serves, before a byte
/// of its body is read, and counts it as in flight until its response is produced, so that a drain
/// waits for it.
/// </summary>
internal sealed class InferenceAdmissionFilter(RequestDrain drain) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var response = context.HttpContext.Response;
        if (!drain.TryEnter())
        {
            return ProblemMapping.Unavailable(response, "The server is shutting down and takes no new requests; retry, another replica will answer.");
        }

        try
        {
            var model = context.Arguments.OfType<RoutedModel>().Single().Model;
            if (model.Failure is { } failure)
            {
                return ProblemMapping.Unavailable(response, $"Model '{model.Name}' failed to load: {failure}", ProblemTitles.ModelUnavailable);
            }

            if (model.State != ModelState.Ready)
            {
                return ProblemMapping.Unavailable(response, "The model is still warming up; retry shortly.");
            }

            return await next(context);
        }
        finally
        {
            drain.Exit();
        }
    }
}
