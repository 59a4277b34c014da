using System.Text.Json;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>
/// PyTorch's greedy captions of the ShapeWorld images, written by the exporter beside the default
/// package's parity fixture; the server must reproduce them.
/// </summary>
internal static class ReferenceCaptions
{
    private static readonly Lazy<Dictionary<string, string>> Captions = new(() =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.Combine(
            RepositoryPaths.RepositoryRoot, "tests", "fixtures", "parity", "shapeworld-fusion", "greedy_captions.json")))!);

    /// <summary>The reference caption of <see cref="RepositoryPaths.ShapeWorldImage"/>.</summary>
    public static string ForShapeWorldImage => Captions.Value["existential-oneshape/world-0.png"];
}
