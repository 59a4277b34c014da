using CaptionService.Inference;

namespace CaptionService.Api.Contracts;

/// <summary>How unlike the model's scenes the image is (packages with scene statistics only).</summary>
public sealed class ImageDistanceDescription
{
    /// <summary>
    /// Mahalanobis distance of the image's encoder features (per channel, mean and standard
    /// deviation over the image tokens) from those of the package's calibration scenes.
    /// </summary>
    /// <example>9.8</example>
    public required double Distance { get; init; }

    /// <summary>The package's threshold: above it the response warns <c>out-of-distribution</c>.</summary>
    /// <example>18.3</example>
    public required double Threshold { get; init; }

    internal static ImageDistanceDescription? From(ImageDistance? distance) =>
        distance is null ? null : new() { Distance = distance.Distance, Threshold = distance.Threshold };
}
