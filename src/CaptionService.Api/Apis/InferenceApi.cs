using CaptionService.Api.Hosting;
using CaptionService.Api.Admission;
using CaptionService.Api.Contracts;
using CaptionService.Api.Draining;
using CaptionService.Api.Errors;
using CaptionService.Api.Explanations;
using CaptionService.Api.Models;
using CaptionService.Api.OpenApi;
using CaptionService.Api.Requests;
using CaptionService.Api.Security;
using CaptionService.Api.Warnings;
using CaptionService.Inference;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Apis;

/// <summary><c>POST /caption</c> and <c>POST /score</c>: what the model says about an image.</summary>
internal static class InferenceApi
{
    public static WebApplicationBuilder AddInferenceApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ImageUploadReader>();
        builder.Services.AddValidatedOptions<AdmissionOptions>(AdmissionOptions.SectionName);
        builder.Services.AddSingleton<UploadBudget>();
        builder.Services.AddValidatedOptions<WarningOptions>(WarningOptions.SectionName);
        builder.Services.AddSingleton<HeatMapOverlay>();
        return builder;
    }

    public static IEndpointRouteBuilder MapInferenceApi(this IEndpointRouteBuilder app)
    {
        var limits = app.ServiceProvider.GetRequiredService<IOptions<PreprocessingOptions>>().Value;

        // The default model's routes, and the same endpoints for each model by name: one handler,
        // whose RoutedModel parameter picks the model from the route.
        MapInferenceEndpoints(app.MapGroup("/"), limits, operationPrefix: "", modelNote: "");
        MapInferenceEndpoints(
            app.MapGroup($"/v1/models/{{{RoutedModel.RouteParameter}}}"),
            limits,
            operationPrefix: "Model",
            modelNote: "As the route without `/v1/models/{name}`, on the model named `name` (`GET /v1/models` lists them); an unknown name answers 404.\n\n");
        return app;
    }

    private static void MapInferenceEndpoints(RouteGroupBuilder group, PreprocessingOptions limits, string operationPrefix, string modelNote)
    {
        var api = group
            .WithTags("Inference")
            .AddEndpointFilter<InferenceAdmissionFilter>()
            .AddEndpointFilter<UploadAdmissionFilter>()
            .RequireRateLimiting(RateLimitExtensions.InferencePolicy);
        var unknownModel = operationPrefix.Length > 0 ? new[] { ProblemTitles.UnknownModel } : [];
        var notFoundWhy = operationPrefix.Length > 0 ? "No model has this name, or the" : "The";

        api.MapPost("/caption", CaptionAsync)
            .WithName(operationPrefix + "Caption")
            .WithSummary(operationPrefix.Length > 0 ? "Caption an image with a named model" : "Caption an image")
            .WithDescription(modelNote + CaptionDescription(limits))
            .AcceptsImageUpload(new ImageUploadMetadata(AcceptsRawImage: true, TakesTexts: false, GenerationOptionCatalog.All))
            .ProducesProblems(
                new(StatusCodes.Status400BadRequest, "An option is not a number or out of range, or the image field is missing or empty.", ProblemTitles.InvalidOption, ProblemTitles.BadRequest, ProblemTitles.BadRequestBody),
                TooLarge(limits),
                new(StatusCodes.Status415UnsupportedMediaType, $"The body is neither multipart/form-data nor image/*, or the image format is not {ImageFormats}.", ProblemTitles.UnsupportedImageFormat, ProblemTitles.UnsupportedMediaType),
                new(StatusCodes.Status404NotFound, $"{notFoundWhy} model is a CLIP (scoring-only) model and cannot caption: use POST /score.", [ProblemTitles.NotSupportedByModel, .. unknownModel]),
                Unprocessable(limits),
                QueueFull,
                Unavailable,
                ServerFault);

        api.MapPost("/score", ScoreAsync)
            .WithName(operationPrefix + "Score")
            .WithSummary(operationPrefix.Length > 0 ? "Score statements against an image with a named model" : "Score statements against an image")
            .WithDescription(modelNote + ScoreDescription(limits))
            .AcceptsImageUpload(new ImageUploadMetadata(AcceptsRawImage: false, TakesTexts: true, ScoreOptionCatalog.All))
            .ProducesProblems(
                new(StatusCodes.Status400BadRequest, $"No text, more than {ScoreTexts.MaxTexts} texts, an empty or over-long text, or the image field is missing.", ProblemTitles.BadRequest, ProblemTitles.TextTooLong, ProblemTitles.BadRequestBody),
                TooLarge(limits),
                new(StatusCodes.Status415UnsupportedMediaType, $"The body is not multipart/form-data, or the image format is not {ImageFormats}.", ProblemTitles.UnsupportedImageFormat, ProblemTitles.UnsupportedMediaType),
                new(StatusCodes.Status404NotFound, $"{notFoundWhy} model is a captioning model without a fusion graph and cannot score texts.", [ProblemTitles.NotSupportedByModel, .. unknownModel]),
                new(StatusCodes.Status422UnprocessableEntity,
                    $"The image cannot be decoded, has more than {limits.MaxPixels:N0} pixels (MaxPixels) or a side under {limits.MinImageSide} pixels (MinImageSide); or, with `strict=true`, a text has words the model does not know (the detail names them).",
                    ProblemTitles.UnprocessableImage,
                    ProblemTitles.UnknownWords),
                QueueFull,
                Unavailable,
                ServerFault);
    }

    internal const string ImageFormats = "JPEG, PNG, WebP, GIF or BMP";

    internal static readonly ProblemResponseMetadata QueueFull = new(
        StatusCodes.Status429TooManyRequests,
        "The batch queue is full, or this client passed its rate limit (with RateLimit-* headers); retry after the Retry-After seconds.",
        ProblemTitles.TooManyRequests,
        ProblemTitles.RateLimited);

    internal static readonly ProblemResponseMetadata Unavailable = new(
        StatusCodes.Status503ServiceUnavailable,
        "The server or the model is warming up, the model failed to load, the server is draining, receiving too many bodies at once or decoding too many pixels at once (MaxDecodingPixelsInFlight), the request waited past its deadline, or its batch ran past the batch timeout; retry after the Retry-After seconds.",
        ProblemTitles.ServiceUnavailable,
        ProblemTitles.ModelUnavailable,
        ProblemTitles.DeadlineExceeded,
        ProblemTitles.ServerBusy,
        ProblemTitles.InferenceTimedOut);

    internal static readonly ProblemResponseMetadata ServerFault = new(
        StatusCodes.Status500InternalServerError,
        "The model failed on the batch that ran this request (other requests are unaffected); `errorId` names the server's log entry for it.",
        ProblemTitles.ServerFault);

    private static string CaptionDescription(PreprocessingOptions limits) => $"""
        Writes a caption for one image. Send the image either as the multipart/form-data file field
        `image` (options may then also be form fields), or as the raw request body with
        `Content-Type: image/*` (options in the query string). {AcceptedImages(limits)}

        Greedy decoding is the default. `beams` > 1 runs beam search and `alternatives` returns the
        n best; `temperature` (with optional `topK`, `topP`, `seed`) samples instead.
        `confidence` is the geometric mean of the best caption's token probabilities.
        `verify=true` reranks the n-best by the fusion graph's score and reports it (`verification`).
        `warnings` says what makes the answer less trustworthy than it looks (see its `code`).
        A CLIP (scoring-only) model answers 404: it has no captioning.
        """;

    private static string ScoreDescription(PreprocessingOptions limits) => $"""
        Scores statements against one image, one entry per `text` field in the order sent. Send
        multipart/form-data with the file field `image` and 1 to {ScoreTexts.MaxTexts} `text` fields. {AcceptedImages(limits)}

        With a fusion model, `score` is the probability in [0, 1] that the text is true of the image,
        independent of the other texts. With a CLIP model (`GET /model` says `kind: scoring`), each
        entry also has `similarity`, the cosine of the text and image embeddings, and `score` is the
        softmax over the request's texts of logit_scale × similarity (the scores sum to 1): what
        zero-shot image classification returns, with the texts as the candidate labels, used as written.
        Words the model does not know are listed per text (`unknownWords`) and warned about;
        `strict=true` refuses them with 422 instead.
        """;

    /// <summary>The configured limits, so that the document says what this server enforces.</summary>
    internal static string AcceptedImages(PreprocessingOptions limits) =>
        $"JPEG, PNG, WebP, GIF (first frame) and BMP are decoded, up to {limits.MaxImageBytes:N0} bytes, " +
        $"{limits.MaxPixels:N0} pixels, and at least {limits.MinImageSide} pixels a side (this server's `{PreprocessingOptions.SectionName}` settings).";

    internal static ProblemResponseMetadata TooLarge(PreprocessingOptions limits) => new(
        StatusCodes.Status413PayloadTooLarge,
        $"The body or the image is larger than {limits.MaxImageBytes:N0} bytes (MaxImageBytes).",
        ProblemTitles.ImageTooLarge,
        ProblemTitles.RequestBodyTooLarge);

    internal static ProblemResponseMetadata Unprocessable(PreprocessingOptions limits) => new(
        StatusCodes.Status422UnprocessableEntity,
        $"The image cannot be decoded, has more than {limits.MaxPixels:N0} pixels (MaxPixels), or a side under {limits.MinImageSide} pixels (MinImageSide).",
        ProblemTitles.UnprocessableImage);

    private static async Task<Results<Ok<CaptionResponse>, ProblemHttpResult>> CaptionAsync(
        HttpRequest request,
        ImageUploadReader reader,
        RoutedModel model,
        IOptions<WarningOptions> warnings,
        CancellationToken cancellationToken)
    {
        var engine = model.Model;
        try
        {
            using var upload = await reader.ReadAsync(request, acceptRawImage: true, cancellationToken);
            var options = GenerationOptionsParser.Parse(request, upload.Form);
            var result = await engine.CaptionAsync(upload.Image, options, cancellationToken);
            return TypedResults.Ok(CaptionResponse.From(result, warnings.Value));
        }
        catch (Exception e) when (ProblemMapping.IsRefusal(e))
        {
            return ProblemMapping.ToProblem(e, request.HttpContext.Response);
        }
    }

    /// <summary><c>strict=true</c>: a 422 naming every unknown word of every text, before any inference.</summary>
    private static void RefuseUnknownWords(HostedModel engine, IReadOnlyList<string> texts)
    {
        var problems = texts
            .Select((text, i) => (Index: i, Unknown: engine.UnknownWords(text)))
            .Where(t => t.Unknown.Count > 0)
            .Select(t => ResponseWarnings.UnknownWordsMessage(t.Index, texts.Count, t.Unknown))
            .ToList();
        if (problems.Count > 0)
        {
            throw new ClientRequestException(StatusCodes.Status422UnprocessableEntity, ProblemTitles.UnknownWords,
                string.Join(" ", problems) + " strict=true refuses such texts; without it they are scored, with an unknown-words warning.");
        }
    }

    private static async Task<Results<Ok<ScoreResponse>, ProblemHttpResult>> ScoreAsync(
        HttpRequest request,
        ImageUploadReader reader,
        RoutedModel model,
        CancellationToken cancellationToken)
    {
        var engine = model.Model;
        try
        {
            using var upload = await reader.ReadAsync(request, acceptRawImage: false, cancellationToken);
            var texts = ScoreTexts.Read(upload.Form);
            if (RequestValues.Boolean(request, upload.Form, ScoreOptionCatalog.Strict.Name) == true)
            {
                RefuseUnknownWords(engine, texts);
            }

            var explain = RequestValues.Boolean(request, upload.Form, ScoreOptionCatalog.Explain.Name) == true;
            var result = await engine.ScoreAsync(upload.Image, texts, explain, cancellationToken);
            return TypedResults.Ok(ScoreResponse.From(result));
        }
        catch (Exception e) when (ProblemMapping.IsRefusal(e))
        {
            return ProblemMapping.ToProblem(e, request.HttpContext.Response);
        }
    }
}
