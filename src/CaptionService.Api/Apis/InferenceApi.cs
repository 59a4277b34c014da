using CaptionService.Api.Contracts;
using CaptionService.Api.Draining;
using CaptionService.Api.Errors;
using CaptionService.Api.OpenApi;
using CaptionService.Api.Requests;
using CaptionService.Inference;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CaptionService.Api.Apis;

/// <summary><c>POST /caption</c> and <c>POST /score</c>: what the model says about an image.</summary>
internal static class InferenceApi
{
    private const string CaptionDescription = """
        Writes a caption for one image. Send the image either as the multipart/form-data file field
        `image` (options may then also be form fields), or as the raw request body with
        `Content-Type: image/*` (options in the query string). JPEG, PNG, WebP, GIF (first frame)
        and BMP are decoded; the default limit is 20 MB and 40 megapixels.

        Greedy decoding is the default. `beams` > 1 runs beam search and `alternatives` returns the
        n best; `temperature` (with optional `topK`, `topP`, `seed`) samples instead.
        `confidence` is the geometric mean of the best caption's token probabilities.
        """;

    private const string ScoreDescription = """
        Scores statements against one image: for each `text` field, the probability in [0, 1] that
        it is true of the image, in the order sent. Send multipart/form-data with the file field
        `image` and 1 to 64 `text` fields.
        """;

    public static WebApplicationBuilder AddInferenceApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ImageUploadReader>();
        return builder;
    }

    public static IEndpointRouteBuilder MapInferenceApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/")
            .WithTags("Inference")
            .AddEndpointFilter<InferenceAdmissionFilter>();

        api.MapPost("/caption", CaptionAsync)
            .WithName("Caption")
            .WithSummary("Caption an image")
            .WithDescription(CaptionDescription)
            .AcceptsImageUpload(new ImageUploadMetadata(AcceptsRawImage: true, TakesTexts: false, TakesGenerationOptions: true))
            .ProducesProblems(
                (StatusCodes.Status400BadRequest, "An option is not a number or out of range, or the image field is missing or empty."),
                (StatusCodes.Status413PayloadTooLarge, "The body or the image is larger than MaxImageBytes."),
                (StatusCodes.Status415UnsupportedMediaType, "The body is neither multipart/form-data nor image/*, or the image format is not JPEG, PNG, WebP, GIF or BMP."),
                (StatusCodes.Status422UnprocessableEntity, "The image cannot be decoded, or its size is outside the limits."),
                (StatusCodes.Status429TooManyRequests, "The batch queue is full; retry after the Retry-After seconds."),
                (StatusCodes.Status503ServiceUnavailable, "The server is warming up or draining, or the request waited past its deadline; retry after the Retry-After seconds."));

        api.MapPost("/score", ScoreAsync)
            .WithName("Score")
            .WithSummary("Score statements against an image")
            .WithDescription(ScoreDescription)
            .AcceptsImageUpload(new ImageUploadMetadata(AcceptsRawImage: false, TakesTexts: true, TakesGenerationOptions: false))
            .ProducesProblems(
                (StatusCodes.Status400BadRequest, "No text, more than 64 texts, an empty or over-long text, or the image field is missing."),
                (StatusCodes.Status413PayloadTooLarge, "The body or the image is larger than MaxImageBytes."),
                (StatusCodes.Status415UnsupportedMediaType, "The body is not multipart/form-data, or the image format is not JPEG, PNG, WebP, GIF or BMP."),
                (StatusCodes.Status422UnprocessableEntity, "The image cannot be decoded, or its size is outside the limits."),
                (StatusCodes.Status429TooManyRequests, "The batch queue is full; retry after the Retry-After seconds."),
                (StatusCodes.Status503ServiceUnavailable, "The server is warming up or draining, or the request waited past its deadline; retry after the Retry-After seconds."));

        return app;
    }

    private static async Task<Results<Ok<CaptionResponse>, ProblemHttpResult>> CaptionAsync(
        HttpRequest request,
        ImageUploadReader reader,
        ICaptionEngine engine,
        CancellationToken cancellationToken)
    {
        try
        {
            var upload = await reader.ReadAsync(request, acceptRawImage: true, cancellationToken);
            var options = GenerationOptionsParser.Parse(request, upload.Form);
            var result = await engine.CaptionAsync(upload.Image, options, cancellationToken);
            return TypedResults.Ok(CaptionResponse.From(result));
        }
        catch (Exception e) when (ProblemMapping.IsRefusal(e))
        {
            return ProblemMapping.ToProblem(e, request.HttpContext.Response);
        }
    }

    private static async Task<Results<Ok<ScoreResponse>, ProblemHttpResult>> ScoreAsync(
        HttpRequest request,
        ImageUploadReader reader,
        ICaptionEngine engine,
        CancellationToken cancellationToken)
    {
        try
        {
            var upload = await reader.ReadAsync(request, acceptRawImage: false, cancellationToken);
            var texts = ScoreTexts.Read(upload.Form);
            var result = await engine.ScoreAsync(upload.Image, texts, cancellationToken);
            return TypedResults.Ok(ScoreResponse.From(result));
        }
        catch (Exception e) when (ProblemMapping.IsRefusal(e))
        {
            return ProblemMapping.ToProblem(e, request.HttpContext.Response);
        }
    }
}
