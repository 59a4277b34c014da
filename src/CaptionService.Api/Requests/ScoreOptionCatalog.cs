namespace CaptionService.Api.Requests;

/// <summary>
/// The options of <c>POST /score</c>: the one place that names them and says what they mean; the
/// OpenAPI document and the README describe them from here.
/// </summary>
internal static class ScoreOptionCatalog
{
    public static RequestOption Strict { get; } = new(
        "strict",
        OptionKind.Boolean,
        "`true`: refuse texts with words the model's vocabulary does not know, with 422 naming every such word, instead of scoring them with an `unknown-words` warning. Default: `false`.",
        "true");

    public static RequestOption Explain { get; } = new(
        "explain",
        OptionKind.Boolean,
        "`true`: each score also carries `evidence`, a heat map over the model's grid of image tokens: the fusion graph's cross-attention for the text, averaged over its word tokens and every head of every layer. `POST /score/heatmap` draws it over the image as a PNG. Needs a model whose fusion graph has the cross-attention outputs (`GET /model`: `explainsScores`). Default: `false`.",
        "true");

    /// <summary>Every score option, in the order the documentation lists them.</summary>
    public static IReadOnlyList<RequestOption> All { get; } = [Strict, Explain];
}
