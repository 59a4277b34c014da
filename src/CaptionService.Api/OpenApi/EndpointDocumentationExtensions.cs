namespace CaptionService.Api.OpenApi;

internal static class EndpointDocumentationExtensions
{
    public static RouteHandlerBuilder AcceptsImageUpload(this RouteHandlerBuilder builder, ImageUploadMetadata upload) =>
        builder.WithMetadata(upload);

    /// <summary>Declares problem+json responses, each with a sentence saying when it happens.</summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params (int StatusCode, string Description)[] problems)
    {
        foreach (var (statusCode, description) in problems)
        {
            builder.ProducesProblem(statusCode).WithMetadata(new ProblemResponseMetadata(statusCode, description));
        }

        return builder;
    }
}
