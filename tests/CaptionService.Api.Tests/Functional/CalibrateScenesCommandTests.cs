using System.Text.Json;
using CaptionService.Api.Hosting;
using CaptionService.Api.Tests.Infrastructure;
using CaptionService.Inference.Encoding;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// <c>CaptionService.Api calibrate-scenes PACKAGE IMAGES</c> writes the scene statistics into a
/// package whose manifest does not name them yet (as after a re-export), and names them there.
/// </summary>
public sealed class CalibrateScenesCommandTests : IDisposable
{
    private readonly string _package = Path.Combine(Path.GetTempPath(), "captionservice-tests", Guid.NewGuid().ToString("N"));

    public CalibrateScenesCommandTests()
    {
        var bundled = Path.Combine(RepositoryPaths.RepositoryRoot, "models", "shapeworld-fusion");
        foreach (var file in Directory.EnumerateFiles(bundled, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_package, Path.GetRelativePath(bundled, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        File.Delete(Path.Combine(_package, CalibrateScenesCommand.FileName));
        var manifestPath = Path.Combine(_package, "caption_service.json");
        var manifest = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(manifestPath))!;
        manifest.Remove("scene_statistics");
        File.WriteAllText(manifestPath, JsonSerializer.Serialize(manifest));
    }

    public void Dispose() => Directory.Delete(_package, recursive: true);

    [Fact]
    public void WritesStatisticsOfTheImagesThroughThePackagesEncoderAndNamesThemInTheManifest()
    {
        // 50 scenes stand in for the thousands a real calibration takes.
        var images = Path.Combine(RepositoryPaths.ShapeWorldData, "existential-full");
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(0, CalibrateScenesCommand.Run([CalibrateScenesCommand.Name, _package, images, "1"], output, error));

        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(_package, "caption_service.json"))).RootElement;
        Assert.Equal(CalibrateScenesCommand.FileName, manifest.GetProperty("scene_statistics").GetString());
        var statistics = SceneStatistics.Load(_package, CalibrateScenesCommand.FileName, hiddenSize: 128);
        Assert.Equal(ImageFeatures.Length(128), statistics.Mean.Length);
        Assert.Equal("50", statistics.Calibration!["images"]);
        Assert.True(statistics.Threshold > 0);
        Assert.Contains("50 scenes", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesAQuantileOutsideZeroToOne()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(2, CalibrateScenesCommand.Run([CalibrateScenesCommand.Name, _package, RepositoryPaths.ShapeWorldData, "1.5"], output, error));
        Assert.Contains("QUANTILE", error.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_package, CalibrateScenesCommand.FileName)));
    }
}
