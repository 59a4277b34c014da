using System.Globalization;
using CaptionService.Inference;
using CaptionService.Inference.Encoding;

namespace CaptionService.Api.Hosting;

/// <summary>
/// <c>CaptionService.Api calibrate-scenes PACKAGE IMAGES [QUANTILE]</c>: encodes the calibration
/// scenes in IMAGES (PNG files, e.g. from <c>python3 -m training scenes</c>) with the package's
/// encoder and writes <c>scene_statistics.json</c> into the package: the numbers behind the
/// out-of-distribution warning. The manifest names the file as <c>scene_statistics</c>.
/// </summary>
internal static class CalibrateScenesCommand
{
    public const string Name = "calibrate-scenes";

    public const string FileName = "scene_statistics.json";

    /// <summary>The quantile of the calibration scenes' distances that the threshold is a margin over (<see cref="SceneCalibration.Margin"/>).</summary>
    public const double DefaultQuantile = 0.99;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args is not [Name, var package, var images, ..] || args.Length > 4)
        {
            error.WriteLine($"usage: CaptionService.Api {Name} PACKAGE_DIRECTORY IMAGES_DIRECTORY [QUANTILE, default {DefaultQuantile}]");
            return 2;
        }

        var quantile = DefaultQuantile;
        if (args.Length == 4 && (!double.TryParse(args[3], NumberStyles.Float, CultureInfo.InvariantCulture, out quantile) || quantile is <= 0 or > 1))
        {
            error.WriteLine($"QUANTILE must be a number in (0, 1]; got '{args[3]}'.");
            return 2;
        }

        try
        {
            var (path, count, threshold) = SceneCalibration.Run(Path.GetFullPath(package), Path.GetFullPath(images), FileName, quantile, $"CaptionService.Api {string.Join(' ', args)}");
            output.WriteLine($"Wrote {path}: {count} scenes, threshold {threshold:F3} ({SceneCalibration.Margin} times the {quantile:P1} quantile of their distances).");
            return 0;
        }
        catch (Exception e) when (e is ModelPackageException or ArgumentException or IOException or InferenceRejectedException)
        {
            error.WriteLine(e.Message);
            return 1;
        }
    }
}
