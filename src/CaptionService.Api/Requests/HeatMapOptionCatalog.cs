namespace CaptionService.Api.Requests;

/// <summary>The options of <c>POST /caption/heatmap</c> besides the caption options.</summary>
internal static class HeatMapOptionCatalog
{
    public static RequestOption Word { get; } = new(
        "word",
        OptionKind.Integer,
        "Which word of the caption to draw: its index in the `explanation` list that `POST /caption?explain=true` returns for the same image and options, from 0. Required.",
        "1",
        Minimum: 0);

    /// <summary>The caption options (the caption is always explained) and <see cref="Word"/>.</summary>
    public static IReadOnlyList<RequestOption> CaptionHeatMap { get; } =
        [.. GenerationOptionCatalog.All.Where(option => option != GenerationOptionCatalog.Explain), Word];
}
