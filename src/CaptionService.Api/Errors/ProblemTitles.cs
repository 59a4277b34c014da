namespace CaptionService.Api.Errors;

/// <summary>
/// The title of every problem response the server sends: clients may switch on it, and the
/// OpenAPI document's examples use the same strings.
/// </summary>
internal static class ProblemTitles
{
    public const string BadRequest = "Bad request";
    public const string Unauthorized = "Unauthorized";
    public const string BadRequestBody = "Bad request body";
    public const string InvalidOption = "Invalid option";
    public const string TextTooLong = "Text too long";
    public const string RequestBodyTooLarge = "Request body too large";
    public const string ImageTooLarge = "Image too large";
    public const string UnsupportedMediaType = "Unsupported media type";
    public const string UnsupportedImageFormat = "Unsupported image format";
    public const string UnprocessableImage = "Unprocessable image";
    public const string UnknownWords = "Unknown words";
    public const string NotSupportedByModel = "Not supported by the model";
    public const string UnknownModel = "Unknown model";
    public const string ModelUnavailable = "Model unavailable";
    public const string ReloadRefused = "Reload refused";
    public const string TooManyRequests = "Too many requests";
    public const string RateLimited = "Rate limit exceeded";
    public const string DeadlineExceeded = "Deadline exceeded";
    public const string ServiceUnavailable = "Service unavailable";
    public const string ServerBusy = "Server busy";
    public const string InferenceTimedOut = "Inference timed out";
    public const string ServerFault = "Internal server error";
}
