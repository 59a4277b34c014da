using System.Globalization;
using CaptionService.Inference;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CaptionService.Api.Errors;

/// <summary>Turns the refusals of the host and of the engine into RFC 7807 problem responses.</summary>
internal static class ProblemMapping
{
    /// <summary>Retry-After for a 503 when the engine did not suggest one.</summary>
    public static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(2);

    /// <summary>
    /// True for a refusal caused by the client or by overload, which <see cref="ToProblem"/> maps
    /// to a 4xx or 503. Anything else is a server fault, left to the exception handler (500).
    /// </summary>
    public static bool IsRefusal(Exception exception) =>
        exception is ClientRequestException or InferenceRejectedException or BadHttpRequestException;

    /// <summary>The problem response for a refusal; sets Retry-After where the client should come back.</summary>
    public static ProblemHttpResult ToProblem(Exception exception, HttpResponse response)
    {
        switch (exception)
        {
            case ClientRequestException refused:
                return Problem(refused.StatusCode, refused.Title, refused.Message);

            case InferenceRejectedException rejected:
                var (status, title) = StatusOf(rejected.Reason);
                if (status is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable)
                {
                    SetRetryAfter(response, rejected.RetryAfter ?? DefaultRetryAfter);
                }

                return Problem(status, title, rejected.Message);

            case BadHttpRequestException badRequest:
                // Thrown by the server while reading the body: unexpected end, its size limit, too slow.
                var badTitle = badRequest.StatusCode == StatusCodes.Status413PayloadTooLarge ? ProblemTitles.RequestBodyTooLarge : ProblemTitles.BadRequestBody;
                return Problem(badRequest.StatusCode, badTitle, badRequest.Message);

            default:
                throw new ArgumentException("Not a client or overload refusal.", nameof(exception), exception);
        }
    }

    /// <summary>A 503 with Retry-After for a request the server will not take now (warming up, draining, too busy).</summary>
    public static ProblemHttpResult Unavailable(HttpResponse response, string detail, string title = ProblemTitles.ServiceUnavailable)
    {
        SetRetryAfter(response, DefaultRetryAfter);
        return Problem(StatusCodes.Status503ServiceUnavailable, title, detail);
    }

    public static (int Status, string Title) StatusOf(RejectionReason reason) => reason switch
    {
        RejectionReason.InvalidOption => (StatusCodes.Status400BadRequest, ProblemTitles.InvalidOption),
        RejectionReason.TextTooLong => (StatusCodes.Status400BadRequest, ProblemTitles.TextTooLong),
        RejectionReason.ImageTooLarge => (StatusCodes.Status413PayloadTooLarge, ProblemTitles.ImageTooLarge),
        RejectionReason.UnsupportedImageFormat => (StatusCodes.Status415UnsupportedMediaType, ProblemTitles.UnsupportedImageFormat),
        RejectionReason.UnprocessableImage => (StatusCodes.Status422UnprocessableEntity, ProblemTitles.UnprocessableImage),
        RejectionReason.NotSupportedByModel => (StatusCodes.Status404NotFound, ProblemTitles.NotSupportedByModel),
        RejectionReason.QueueFull => (StatusCodes.Status429TooManyRequests, ProblemTitles.TooManyRequests),
        RejectionReason.DecodingBusy => (StatusCodes.Status503ServiceUnavailable, ProblemTitles.ServerBusy),
        RejectionReason.DeadlineExceeded => (StatusCodes.Status503ServiceUnavailable, ProblemTitles.DeadlineExceeded),
        RejectionReason.Unavailable => (StatusCodes.Status503ServiceUnavailable, ProblemTitles.ServiceUnavailable),
        RejectionReason.ExecutionTimedOut => (StatusCodes.Status503ServiceUnavailable, ProblemTitles.InferenceTimedOut),
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "No HTTP status for this rejection reason."),
    };

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);

    /// <summary>Whole seconds, rounded up, at least one: clients must not retry at once.</summary>
    private static void SetRetryAfter(HttpResponse response, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
    }
}
