using System.Text.Json.Nodes;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>A copy of a package (the bundled default unless named) in a temporary directory, for tests that break or edit it.</summary>
internal sealed class TemporaryPackageCopy : IDisposable
{
    public TemporaryPackageCopy(string? source = null)
    {
        source ??= TestPaths.DefaultPackage;
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = System.IO.Path.Combine(Path, System.IO.Path.GetRelativePath(source, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "caption-engine-tests", Guid.NewGuid().ToString("N"));

    public string ManifestPath => System.IO.Path.Combine(Path, "caption_service.json");

    /// <summary>Rewrites caption_service.json through <paramref name="edit"/>.</summary>
    public void EditManifest(Action<JsonObject> edit)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(ManifestPath))!.AsObject();
        edit(manifest);
        File.WriteAllText(ManifestPath, manifest.ToJsonString());
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
