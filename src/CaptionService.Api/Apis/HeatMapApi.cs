using CaptionService.Api.Admission;
using CaptionService.Api.Draining;
using CaptionService.Api.Errors;
using CaptionService.Api.Explanations;
using CaptionService.Api.OpenApi;
using CaptionService.Api.Requests;
using CaptionService.Api.Security;
using CaptionService.Inference;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Apis;

/// <summary>
/// <c>POST /caption/heatmap</c> and <c>POST /score/heatmap</c>: an explanation's heat map drawn
/// over the image, as a PNG (<see cref="HeatMapOverlay"/>). The JSON answers with
/// <c>explain=true</c> carry the same maps as numbers.
/// </summary>
internal static class HeatMapApi
{
    private const string PngContentType = "image/png";

    public static IEndpointRouteBuilder MapHeatMapApi(this IEndpointRouteBuilder app)
    {
        var limits = app.ServiceProvider.GetRequiredService<IOptions<PreprocessingOptions>>().Value;
        var api = app.MapGroup("/")
            .WithTags("Explanations")
            .AddEndpointFilter<InferenceAdmissionFilter>()
            .AddEndpointFilter<UploadAdmissionFilter>()
            .RequireRateLimiting(RateLimitExtensions.InferencePolicy);
        var notExplainable = new ProblemResponseMetadata(
            StatusCodes.Status400BadRequest,
            "An option is out of range, `word` is missing or past the caption's last word, the image or text field is missing, or the model has no cross-attention outputs to explain with (`GET /model`: `explainsCaptions`, `explainsScores`).",
            ProblemTitles.InvalidOption, ProblemTitles.BadRequest, ProblemTitles.BadRequestBody, ProblemTitles.TextTooLong);

        api.MapPost("/caption/heatmap", CaptionHeatMapAsync)
            .WithName("CaptionHeatMap")
            .WithSummary("Draw where the model looked for one word of its caption")
            .WithDescription($"""
                Captions the image as `POST /caption?explain=true` does (same options) and answers a PNG: the
                image, its longer side scaled to {HeatMapOverlay.LongerSide} pixels, with the heat map of the
                caption's word number `word` drawn over it (black to red to yellow, opaque where the map
                peaks). {InferenceApi.AcceptedImages(limits)}
                """)
            .AcceptsImageUpload(new ImageUploadMetadata(AcceptsRawImage: true, TakesTexts: false, HeatMapOptionCatalog.CaptionHeatMap))
            .Produces<Stream>(StatusCodes.Status200OK, PngContentType)
            .ProducesProblems(Problems(
                notExplainable,
                limits,
                $"The body is neither multipart/form-data nor image/*, or the image format is not {InferenceApi.ImageFormats}.",
                "The loaded model is a CLIP (scoring-only) model and cannot caption."));

        api.MapPost("/score/heatmap", ScoreHeatMapAsync)
            .WithName("ScoreHeatMap")
            .WithSummary("Draw where the model looked to score one statement")
            .WithDescription($"""
                Scores one `text` against the image as `POST /score?explain=true` does and answers a PNG: the
                image, its longer side scaled to {HeatMapOverlay.LongerSide} pixels, with the text's evidence map
                drawn over it. Send multipart/form-data with the file field `image` and exactly one `text`. {InferenceApi.AcceptedImages(limits)}
                """)
            .AcceptsImageUpload(new ImageUploadMetadata(AcceptsRawImage: false, TakesTexts: true, []))
            .Produces<Stream>(StatusCodes.Status200OK, PngContentType)
            .ProducesProblems(Problems(
                notExplainable,
                limits,
                $"The body is not multipart/form-data, or the image format is not {InferenceApi.ImageFormats}.",
                "The loaded model has no fusion graph and cannot score texts."));
        return app;
    }

    /// <summary>What both heat-map endpoints may answer besides the PNG; they differ in the media types they take and in what a model may lack.</summary>
    private static ProblemResponseMetadata[] Problems(
        ProblemResponseMetadata notExplainable, PreprocessingOptions limits, string unsupportedMedia, string notSupportedByModel) =>
    [
        notExplainable,
        InferenceApi.TooLarge(limits),
        new(StatusCodes.Status415UnsupportedMediaType, unsupportedMedia, ProblemTitles.UnsupportedImageFormat, ProblemTitles.UnsupportedMediaType),
        new(StatusCodes.Status404NotFound, notSupportedByModel, ProblemTitles.NotSupportedByModel),
        InferenceApi.Unprocessable(limits),
        InferenceApi.QueueFull,
        InferenceApi.Unavailable,
        InferenceApi.ServerFault,
    ];

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> CaptionHeatMapAsync(
        HttpRequest request,
        ImageUploadReader reader,
        RoutedModel model,
        HeatMapOverlay overlay,
        CancellationToken cancellationToken)
    {
        var engine = model.Model;
        try
        {
            using var upload = await reader.ReadAsync(request, acceptRawImage: true, cancellationToken);
            var options = GenerationOptionsParser.Parse(request, upload.Form) with { Explain = true };
            var word = GenerationOptionsParser.Integer(request, upload.Form, HeatMapOptionCatalog.Word)
                ?? throw new ClientRequestException(StatusCodes.Status400BadRequest, ProblemTitles.InvalidOption,
                    "Give 'word', the index of the caption's word to draw (from 0), as POST /caption?explain=true lists them.");
            var result = await engine.CaptionAsync(upload.Image, options, cancellationToken);
            var words = result.Explanation!;
            if (word < 0 || word >= words.Count)
            {
                throw new ClientRequestException(StatusCodes.Status400BadRequest, ProblemTitles.InvalidOption,
                    $"'word' must be between 0 and {words.Count - 1}: the caption '{result.Caption}' has {words.Count} words; got {word}.");
            }

            return TypedResults.File(overlay.RenderPng(upload.Image, words[word].Map), PngContentType);
        }
        catch (Exception e) when (ProblemMapping.IsRefusal(e))
        {
            return ProblemMapping.ToProblem(e, request.HttpContext.Response);
        }
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> ScoreHeatMapAsync(
        HttpRequest request,
        ImageUploadReader reader,
        RoutedModel model,
        HeatMapOverlay overlay,
        CancellationToken cancellationToken)
    {
        var engine = model.Model;
        try
        {
            using var upload = await reader.ReadAsync(request, acceptRawImage: false, cancellationToken);
            var texts = ScoreTexts.Read(upload.Form);
            if (texts.Count != 1)
            {
                throw ClientRequestException.BadRequest($"Send exactly one 'text' field: one statement's evidence is drawn; got {texts.Count}.");
            }

            var result = await engine.ScoreAsync(upload.Image, texts, explain: true, cancellationToken);
            return TypedResults.File(overlay.RenderPng(upload.Image, result.Scores[0].Evidence!), PngContentType);
        }
        catch (Exception e) when (ProblemMapping.IsRefusal(e))
        {
            return ProblemMapping.ToProblem(e, request.HttpContext.Response);
        }
    }
}
