using System.Globalization;
using System.Text.Json;
using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Preprocessing;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Encoding;

/// <summary>
/// Builds a package's <see cref="SceneStatistics"/> from calibration scenes: their
/// <see cref="ImageFeatures"/> through the package's own encoder, the mean and the inverse of the
/// covariance shrunk towards its average variance (<see cref="Shrinkage"/>, so that directions the
/// scenes never vary in do not make every other image infinitely far), and as threshold
/// <see cref="Margin"/> times the <c>quantile</c> of the calibration scenes' own distances.
/// </summary>
internal static class SceneCalibration
{
    /// <summary>Share of the covariance replaced by its mean variance on the diagonal.</summary>
    public const double Shrinkage = 0.05;

    /// <summary>
    /// The threshold's factor over the calibration quantile. Distances of scenes from one renderer
    /// concentrate tightly (the bundled package's 2,000 generated scenes: 99% under 12.6, all under
    /// 14.1), but scenes drawn by another renderer sit further out: ShapeWorld's published
    /// development scenes reach 1.5 times that quantile. Images that are no scenes at all measured
    /// 4.8 times it and more (MODEL_CARD.md), so a factor of 2 keeps scenes in and them out.
    /// </summary>
    public const double Margin = 2.0;

    private const int ImagesPerRun = 64;

    private static readonly JsonSerializerOptions s_writeOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Encodes every PNG in <paramref name="imagesDirectory"/> with the package and writes the statistics file into it.</summary>
    public static (string Path, int Images, double Threshold) Run(string packageDirectory, string imagesDirectory, string fileName, double quantile, string command)
    {
        var files = Directory.GetFiles(imagesDirectory, "*.png").Order(StringComparer.Ordinal).ToArray();
        if (files.Length < 2)
        {
            throw new ArgumentException($"'{imagesDirectory}' holds {files.Length} PNG files; calibration needs many scenes (thousands).", nameof(imagesDirectory));
        }

        var options = new ModelOptions { Path = packageDirectory, ExecutionProvider = ExecutionProviderKind.Cpu };
        using var package = ModelPackageLoader.Load(options, NullLogger.Instance);
        var preprocessor = new ImagePreprocessor(new PreprocessingOptions(), package.ImageTransform);
        var encoder = new ImageEncoder(package.Encoder, package.ImageTransform.Height, package.ImageTransform.Width);
        var features = new List<double[]>(files.Length);
        foreach (var chunk in files.Chunk(ImagesPerRun))
        {
            var pixels = chunk.Select(file => preprocessor.Preprocess(File.ReadAllBytes(file))).ToList();
            try
            {
                foreach (var state in encoder.Encode(pixels))
                {
                    using (state)
                    {
                        features.Add(ImageFeatures.Of(state));
                    }
                }
            }
            finally
            {
                pixels.ForEach(p => p.Dispose());
            }
        }

        var calibration = new Dictionary<string, string>
        {
            ["images"] = features.Count.ToString(CultureInfo.InvariantCulture),
            ["quantile"] = quantile.ToString(CultureInfo.InvariantCulture),
            ["shrinkage"] = Shrinkage.ToString(CultureInfo.InvariantCulture),
            ["margin"] = Margin.ToString(CultureInfo.InvariantCulture),
            ["source"] = $"{features.Count} PNG scenes from {Path.GetFileName(imagesDirectory)}, made by the project's own generator (`PYTHONPATH=src python3 -m training scenes`), never the published ShapeWorld worlds",
            ["command"] = command,
        };
        var statistics = Fit(features, quantile, calibration);
        var path = Path.Combine(packageDirectory, fileName);
        File.WriteAllText(path, JsonSerializer.Serialize(statistics, s_writeOptions) + "\n");
        return (path, features.Count, statistics.Threshold);
    }

    /// <summary>Mean, shrunk precision and the distance quantile of <paramref name="features"/>.</summary>
    public static SceneStatistics Fit(IReadOnlyList<double[]> features, double quantile, Dictionary<string, string>? calibration = null)
    {
        var n = features.Count;
        var d = features[0].Length;
        var mean = new double[d];
        foreach (var f in features)
        {
            for (var i = 0; i < d; i++)
            {
                mean[i] += f[i] / n;
            }
        }

        var covariance = new double[d, d];
        foreach (var f in features)
        {
            for (var i = 0; i < d; i++)
            {
                var di = f[i] - mean[i];
                for (var j = i; j < d; j++)
                {
                    covariance[i, j] += di * (f[j] - mean[j]) / (n - 1);
                }
            }
        }

        var averageVariance = 0.0;
        for (var i = 0; i < d; i++)
        {
            averageVariance += covariance[i, i] / d;
        }

        for (var i = 0; i < d; i++)
        {
            for (var j = i; j < d; j++)
            {
                var shrunk = (1 - Shrinkage) * covariance[i, j] + (i == j ? Shrinkage * averageVariance : 0);
                covariance[i, j] = shrunk;
                covariance[j, i] = shrunk;
            }
        }

        var precision = Invert(covariance);
        var provisional = new SceneStatistics(ImageFeatures.Kind, 1.0, calibration, mean, precision);
        var distances = features.Select(f => provisional.Distance(f)).Order().ToArray();
        var threshold = Margin * distances[Math.Min(distances.Length - 1, (int)Math.Ceiling(quantile * distances.Length) - 1)];
        return provisional with { Threshold = threshold };
    }

    /// <summary>Gauss-Jordan inversion with partial pivoting of a symmetric positive-definite matrix; rows of the result.</summary>
    private static float[][] Invert(double[,] matrix)
    {
        var d = matrix.GetLength(0);
        var a = new double[d, 2 * d];
        for (var i = 0; i < d; i++)
        {
            for (var j = 0; j < d; j++)
            {
                a[i, j] = matrix[i, j];
            }

            a[i, d + i] = 1;
        }

        for (var column = 0; column < d; column++)
        {
            var pivot = column;
            for (var row = column + 1; row < d; row++)
            {
                if (Math.Abs(a[row, column]) > Math.Abs(a[pivot, column]))
                {
                    pivot = row;
                }
            }

            for (var j = 0; j < 2 * d; j++)
            {
                (a[column, j], a[pivot, j]) = (a[pivot, j], a[column, j]);
            }

            var scale = a[column, column];
            for (var j = 0; j < 2 * d; j++)
            {
                a[column, j] /= scale;
            }

            for (var row = 0; row < d; row++)
            {
                if (row == column || a[row, column] == 0)
                {
                    continue;
                }

                var factor = a[row, column];
                for (var j = 0; j < 2 * d; j++)
                {
                    a[row, j] -= factor * a[column, j];
                }
            }
        }

        var inverse = new float[d][];
        for (var i = 0; i < d; i++)
        {
            inverse[i] = new float[d];
            for (var j = 0; j < d; j++)
            {
                // Symmetrised, so that rounding leaves no asymmetry in the stored precision.
                inverse[i][j] = (float)((a[i, d + j] + a[j, d + i]) / 2);
            }
        }

        return inverse;
    }
}
