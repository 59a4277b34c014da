using System.Globalization;
using CaptionService.Inference;
using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionService.Inference.Encoding;
using CaptionService.Inference.ModelPackage;

namespace CaptionService.Api.Hosting;

/// <summary>
/// <c>CaptionService.Api calibrate-scenes PACKAGE IMAGES [QUANTILE]</c>: encodes the calibration
/// scenes in IMAGES (PNG files, e.g. from <c>python3 -m training scenes</c>) with the package's
/// encoder and writes <c>scene_statistics.json</c> into the package: the numbers behind the
/// out-of-distribution warning. It names the file in the manifest (<c>scene_statistics</c>) when
/// the manifest does not yet, as after <c>python3 -m training export</c>, which rewrites the package.
/// </summary>
internal static class CalibrateScenesCommand
{
    public const string Name = "calibrate-scenes";

    public const string FileName = "scene_statistics.json";

    private const string ManifestKey = "scene_statistics";

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
            if (NameInManifest(Path.GetFullPath(package)) is { } manifest)
            {
                output.WriteLine($"Named it in {manifest} as scene_statistics.");
            }

            return 0;
        }
        catch (Exception e) when (e is ModelPackageException or ArgumentException or IOException or InferenceRejectedException or JsonException)
        {
            error.WriteLine(e.Message);
            return 1;
        }
    }

    /// <summary>Adds <c>"scene_statistics"</c> to the package's manifest when it lacks it; the manifest's path, or null when nothing changed.</summary>
    private static string? NameInManifest(string packageDirectory)
    {
        var path = Path.Combine(packageDirectory, ModelPackageLoader.ManifestFile);
        if (!File.Exists(path) || JsonNode.Parse(File.ReadAllText(path)) is not JsonObject manifest)
        {
            return null;
        }

        if (manifest.TryGetPropertyValue(ManifestKey, out var named) && named?.GetValue<string>() == FileName)
        {
            return null;
        }

        manifest[ManifestKey] = FileName;
        File.WriteAllText(path, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return path;
    }
}
