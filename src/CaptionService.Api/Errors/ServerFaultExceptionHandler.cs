using CaptionService.Inference;
using Microsoft.AspNetCore.Diagnostics;

namespace CaptionService.Api.Errors;

/// <summary>
/// Every exception that is not a client refusal (see <see cref="ClientErrorExceptionHandler"/>)
/// becomes a 500 problem carrying an <c>errorId</c> (beside the trace id every problem carries),
/// and is logged exactly once under that id. An engine fault was logged already, once for its
/// whole batch, under the id the exception carries; anything else is logged here. Because this
/// handler handles the exception, the exception handler middleware logs nothing of its own.
/// </summary>
internal sealed partial class ServerFaultExceptionHandler(IProblemDetailsService problemDetails, ILogger<ServerFaultExceptionHandler> logger)
    : IExceptionHandler
{
    public const string ErrorIdExtension = "errorId";

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        string errorId;
        if (exception is InferenceFailedException engineFault)
        {
            errorId = engineFault.ErrorId;
        }
        else
        {
            errorId = InferenceFailedException.NewErrorId();
            LogServerFault(logger, httpContext.Request.Method, httpContext.Request.Path, errorId, exception);
        }

        httpContext.Response.StatusCode = StatusCodes.Status500InternalServerError;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = ProblemTitles.ServerFault,
                Detail = $"The server failed while handling this request; the failure is logged under error id {errorId}. Other requests are unaffected, and a retry may succeed.",
                Extensions = { [ErrorIdExtension] = errorId },
            },
        });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{RequestMethod} {RequestPath} failed, error id {ErrorId}")]
    private static partial void LogServerFault(ILogger logger, string requestMethod, string requestPath, string errorId, Exception exception);
}
