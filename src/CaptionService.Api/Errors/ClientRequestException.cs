namespace CaptionService.Api.Errors;

/// <summary>
/// A request the host refuses before it reaches the engine (body too large, wrong content type,
/// malformed form, unparsable option). Carries the HTTP status and a message written for the client.
/// </summary>
internal sealed class ClientRequestException : Exception
{
    public ClientRequestException(int statusCode, string title, string detail)
        : base(detail)
    {
        StatusCode = statusCode;
        Title = title;
    }

    public ClientRequestException()
    {
        StatusCode = StatusCodes.Status400BadRequest;
        Title = ProblemTitles.BadRequest;
    }

    public ClientRequestException(string message)
        : this(StatusCodes.Status400BadRequest, ProblemTitles.BadRequest, message)
    {
    }

    public ClientRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = StatusCodes.Status400BadRequest;
        Title = ProblemTitles.BadRequest;
    }

    public int StatusCode { get; }

    public string Title { get; }

    public static ClientRequestException BadRequest(string detail) =>
        new(StatusCodes.Status400BadRequest, ProblemTitles.BadRequest, detail);

    public static ClientRequestException TooLarge(string detail) =>
        new(StatusCodes.Status413PayloadTooLarge, ProblemTitles.RequestBodyTooLarge, detail);

    public static ClientRequestException UnsupportedMediaType(string detail) =>
        new(StatusCodes.Status415UnsupportedMediaType, ProblemTitles.UnsupportedMediaType, detail);
}
