namespace CaptionService.Inference.Encoding;

/// <summary>
/// One image summarised from its encoder states for the out-of-distribution check: per channel,
/// the mean over the image tokens followed by their standard deviation. The mean says what the
/// image holds on average (a white page is far from a black scene); the spread says how much it
/// varies from token to token (noise and text vary far more than a few flat shapes).
/// </summary>
internal static class ImageFeatures
{
    /// <summary>The name calibration files give this feature.</summary>
    public const string Kind = "encoder_token_mean_and_std";

    public static int Length(int hiddenSize) => 2 * hiddenSize;

    public static double[] Of(EncoderState state)
    {
        var width = state.HiddenSize;
        var tokens = state.SequenceLength;
        var values = state.Values;
        var features = new double[Length(width)];
        for (var t = 0; t < tokens; t++)
        {
            var token = values.Slice(t * width, width);
            for (var c = 0; c < width; c++)
            {
                features[c] += token[c];
            }
        }

        for (var c = 0; c < width; c++)
        {
            features[c] /= tokens;
        }

        for (var t = 0; t < tokens; t++)
        {
            var token = values.Slice(t * width, width);
            for (var c = 0; c < width; c++)
            {
                var d = token[c] - features[c];
                features[width + c] += d * d;
            }
        }

        for (var c = 0; c < width; c++)
        {
            features[width + c] = Math.Sqrt(features[width + c] / tokens);
        }

        return features;
    }
}
