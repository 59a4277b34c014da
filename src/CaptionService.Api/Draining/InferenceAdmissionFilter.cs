using CaptionService.Api.Errors;
using CaptionService.Inference;

namespace CaptionService.Api.Draining;

/// <summary>
/// Admits an inference request only while the server is ready, before a byte of its body is read,
/// and counts it as in flight until its response is produced, so that a drain waits for it.
/// </summary>
internal sealed class InferenceAdmissionFilter(RequestDrain drain, ICaptionEngine engine) : IEndpointFilter
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
            if (!engine.IsWarm)
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
