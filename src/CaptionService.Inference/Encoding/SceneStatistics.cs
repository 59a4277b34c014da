using CaptionService.Inference.ModelPackage;

namespace CaptionService.Inference.Encoding;

/// <summary>
/// How the encoder sees the scenes a model was trained on, for telling an unlike image: the mean
/// and precision (inverse covariance) of <see cref="ImageFeatures"/> over calibration scenes, and
/// the distance above which an image counts as out of distribution. Written by the server's
/// <c>calibrate-scenes</c> command into the package file that the manifest's
/// <c>scene_statistics</c> names; the numbers live there, not in code.
/// </summary>
/// <param name="Feature">What is measured; only <see cref="ImageFeatures.Kind"/> is known.</param>
/// <param name="Mean">The features' mean over the calibration scenes.</param>
/// <param name="Precision">The inverse of their (shrunk) covariance, row by row (single precision: the file stays small, the distance barely moves).</param>
/// <param name="Threshold">Mahalanobis distance above which an image is out of distribution.</param>
/// <param name="Calibration">Where the numbers come from, for people: images, quantile, command.</param>
internal sealed record SceneStatistics(
    string Feature,
    double Threshold,
    Dictionary<string, string>? Calibration,
    double[] Mean,
    float[][] Precision)
{
    /// <summary>Reads and checks the file against the encoder's state width.</summary>
    public static SceneStatistics Load(string packageDirectory, string relativePath, int? hiddenSize)
    {
        var statistics = PackageJson.Read<SceneStatistics>(packageDirectory, relativePath);
        var path = Path.Combine(packageDirectory, relativePath);
        if (statistics.Feature != ImageFeatures.Kind)
        {
            throw new ModelPackageException($"Model package file '{path}': feature '{statistics.Feature}' is not supported; the engine computes '{ImageFeatures.Kind}'.");
        }

        var length = statistics.Mean.Length;
        if (hiddenSize is { } width && length != ImageFeatures.Length(width))
        {
            throw new ModelPackageException($"Model package file '{path}': {length} features, but the encoder's states of width {width} give {ImageFeatures.Length(width)}.");
        }

        if (statistics.Precision.Length != length || statistics.Precision.Any(row => row.Length != length))
        {
            throw new ModelPackageException($"Model package file '{path}': 'precision' must be {length} x {length}, as 'mean' is {length} long.");
        }

        if (!(statistics.Threshold > 0))
        {
            throw new ModelPackageException($"Model package file '{path}': 'threshold' must be a positive distance; got {statistics.Threshold}.");
        }

        return statistics;
    }

    /// <summary>The Mahalanobis distance of one image's features from the calibration scenes.</summary>
    public double Distance(ReadOnlySpan<double> features)
    {
        var centred = new double[Mean.Length];
        for (var i = 0; i < centred.Length; i++)
        {
            centred[i] = features[i] - Mean[i];
        }

        var squared = 0.0;
        for (var i = 0; i < centred.Length; i++)
        {
            var row = Precision[i];
            var sum = 0.0;
            for (var j = 0; j < centred.Length; j++)
            {
                sum += row[j] * centred[j];
            }

            squared += centred[i] * sum;
        }

        return Math.Sqrt(Math.Max(0, squared));
    }
}
