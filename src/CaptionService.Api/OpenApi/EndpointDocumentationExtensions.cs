namespace CaptionService.Api.OpenApi;

internal static class EndpointDocumentationExtensions
{
    public static RouteHandlerBuilder AcceptsImageUpload(this RouteHandlerBuilder builder, ImageUploadMetadata upload) =>
        builder.WithMetadata(upload);

    /// <summary>Declares problem+json responses, each with a sentence saying when it happens and its titles.</summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params ProblemResponseMetadata[] problems)
    {
        foreach (var problem in problems)
        {
            builder.ProducesProblem(problem.StatusCode).WithMetadata(problem);
        }

        return builder;
    }
}
