namespace CaptionService.Inference.Generation;

/// <summary>Runs one cohort of searches to completion: the caller-owned generation loop of <see cref="DecodingCohort"/>.</summary>
internal static class SearchDriver
{
    /// <summary>Runs all searches to completion. Each search starts with one row (its own encoder state) fed <paramref name="startToken"/>.</summary>
    /// <param name="decoder">The decoder, with one row per search.</param>
    /// <param name="searches">The searches, in the decoder's row order.</param>
    /// <param name="startToken">The decoder start token.</param>
    /// <param name="cancellation">Per search: the client's token. A cancelled search is dropped between steps.</param>
    /// <param name="onFinished">Called once per search, as soon as it finishes, with its index.</param>
    /// <param name="onCancelled">Called once per cancelled search with its index.</param>
    public static void Run(
        IDecoderStep decoder,
        IReadOnlyList<ISearch> searches,
        long startToken,
        IReadOnlyList<CancellationToken> cancellation,
        Action<int> onFinished,
        Action<int> onCancelled)
    {
        var cohort = new DecodingCohort(decoder, searches, startToken, cancellation, onFinished, onCancelled);
        while (cohort.IsActive)
        {
            cohort.Step();
        }
    }
}
