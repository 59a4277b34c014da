using Microsoft.AspNetCore.Diagnostics;

namespace CaptionService.Api.Errors;

/// <summary>
/// Client refusals thrown outside an endpoint handler (for example while the server reads a
/// malformed body) become their 4xx problem instead of a 500. Anything else falls through to the
/// default handler, which logs it and answers 500.
/// </summary>
internal sealed class ClientErrorExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!ProblemMapping.IsRefusal(exception))
        {
            return false;
        }

        var problem = ProblemMapping.ToProblem(exception, httpContext.Response);

        httpContext.Response.StatusCode = problem.StatusCode;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem.ProblemDetails,
            Exception = exception,
        });
    }
}
