namespace CaptionService.Inference.Explanation;

/// <summary>The answers a request for an explanation gets when the package cannot give one.</summary>
internal static class ExplanationRefusals
{
    /// <summary>What adds the outputs to a package exported without them.</summary>
    public const string Remedy =
        "`PYTHONPATH=src python3 -m training add-attention-outputs PACKAGE` adds them to a package exported without them (models/README.md).";

    public static InferenceRejectedException NoCaptionOutputs(string package) => new(
        RejectionReason.InvalidOption,
        $"The model package '{package}' declares no cross-attention outputs for its caption decoder (caption_service.json: decoder.cross_attentions), so it cannot explain captions (explain). {Remedy}");

    public static InferenceRejectedException NoScoreOutputs(string package) => new(
        RejectionReason.InvalidOption,
        $"The model package '{package}' declares no cross-attention outputs for its fusion graph (caption_service.json: fusion.cross_attentions), so it cannot explain scores (explain). {Remedy}");

    /// <summary>The grid of the image tokens, or the refusal when they form none.</summary>
    public static ImageTokenGrid GridOf(int imageTokens) =>
        ImageTokenGrid.Of(imageTokens) ?? throw new InferenceRejectedException(
            RejectionReason.InvalidOption,
            $"The model's {imageTokens} image tokens form no square grid (nor a class token and one), so their attention cannot be drawn on the image (explain).");
}
