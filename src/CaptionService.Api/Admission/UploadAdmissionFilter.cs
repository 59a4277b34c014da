using CaptionService.Api.Errors;

namespace CaptionService.Api.Admission;

/// <summary>
/// Admits an inference request only while its body fits in the <see cref="UploadBudget"/>, before
/// a byte of it is read; past it, a fast 503 with Retry-After, and the server stays ready.
/// </summary>
internal sealed class UploadAdmissionFilter(UploadBudget budget) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        if (!budget.TryReserve(request.ContentLength, out var reserved))
        {
            return ProblemMapping.Unavailable(
                context.HttpContext.Response,
                "Too many request bodies are being received at once; retry shortly.",
                ProblemTitles.ServerBusy);
        }

        try
        {
            return await next(context);
        }
        finally
        {
            budget.Release(reserved);
        }
    }
}
