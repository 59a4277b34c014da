using System.Text;

namespace CaptionService.Inference.Tokenization;

/// <summary>
/// <c>clean_up_tokenization_spaces</c>: the fixed replacements transformers (and transformers.js)
/// apply after decoding, such as <c>" ."</c> → <c>"."</c>. Applied only when the package turns it on.
/// </summary>
internal static class SpacingCleanup
{
    public static string Apply(string text) => new StringBuilder(text)
        .Replace(" .", ".")
        .Replace(" ?", "?")
        .Replace(" !", "!")
        .Replace(" ,", ",")
        .Replace(" ' ", "'")
        .Replace(" n't", "n't")
        .Replace(" 'm", "'m")
        .Replace(" 's", "'s")
        .Replace(" 've", "'ve")
        .Replace(" 're", "'re")
        .ToString();
}
