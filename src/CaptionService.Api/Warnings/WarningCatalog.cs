namespace CaptionService.Api.Warnings;

/// <summary>One warning a response may carry: its code on the wire and what it means.</summary>
/// <param name="Code">The <c>code</c> of the warning object; clients may switch on it.</param>
/// <param name="Meaning">What it says and how far to trust the answer, in Markdown.</param>
internal sealed record WarningKind(string Code, string Meaning);

/// <summary>
/// The warnings of <c>POST /caption</c> and <c>POST /score</c>: the one place that names them and
/// says what they mean. <see cref="ResponseWarnings"/> raises them, the OpenAPI document
/// (<see cref="WarningSchemaFilter"/>) and the README's warning table describe them.
/// </summary>
internal static class WarningCatalog
{
    public static WarningKind UnknownWords { get; } = new(
        "unknown-words",
        "`/score`: a text has words the model's vocabulary does not know (the message names them, and the text's `unknownWords` lists them). The tokenizer turned them into its unknown token, so the score judges the other words only and says nothing about these. `strict=true` refuses such texts with 422 instead.");

    public static WarningKind TextTruncated { get; } = new(
        "text-truncated",
        "`/score` with a CLIP model: a text is longer than the model's 77 tokens, so only its first 77 (the start token and 76 of the text's, without the end token) were scored, as transformers.js's zero-shot pipeline truncates. The score judges the beginning of the text only.");

    public static WarningKind DegenerateCaption { get; } = new(
        "degenerate-caption",
        "`/caption`: the caption writes the same run of 1 to 4 words twice or more back to back (\"gray gray gray\", \"a cross cross\"). The decoder is stuck in a loop, most often on an image unlike its training scenes; the caption describes nothing. Captions of the model's scenes never do this.");

    public static WarningKind LowVerification { get; } = new(
        "low-verification",
        "`/caption` with `verify=true`: the chosen caption's `verification` (its fusion score) is below `CaptionService:Warnings:LowVerificationScore`, so the model's own scorer doubts that the caption is true. It is only as good as the fusion score: the bundled model's judges the objects and their relation but misses some (see its model card), so a caption that passes can still be false.");

    public static WarningKind OutOfDistribution { get; } = new(
        "out-of-distribution",
        "`/caption` and `/score`: the image is unlike the scenes the model was calibrated on: `imageDistance.distance`, the Mahalanobis distance of its encoder features from those of training-like scenes, is above the package's `imageDistance.threshold`. Captions and scores of such an image are not to be trusted. Only for packages with scene statistics.");

    /// <summary>Every warning, in the order the documentation lists them.</summary>
    public static IReadOnlyList<WarningKind> All { get; } = [UnknownWords, TextTruncated, DegenerateCaption, LowVerification, OutOfDistribution];
}
