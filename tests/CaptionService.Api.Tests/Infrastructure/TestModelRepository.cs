using System.Text.Json.Nodes;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>
/// A model repository in a temporary directory: copies of the tiny fixtures under the names a
/// test gives, and ways to change a package on disk as a rollout or an accident would.
/// </summary>
internal sealed class TestModelRepository : IDisposable
{
    public static readonly string CaptioningFixture = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "fixtures", "vit-gpt2-tiny");
    public static readonly string ClipFixture = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "fixtures", "clip-tiny");

    private readonly string _scratch;

    public TestModelRepository()
    {
        var root = Directory.CreateTempSubdirectory("model-repository-").FullName;
        Root = Path.Combine(root, "models");
        _scratch = Path.Combine(root, "scratch");
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(_scratch);
    }

    public string Root { get; }

    public string PackageOf(string name) => Path.Combine(Root, name);

    public TestModelRepository With(string name, string fixture)
    {
        CopyDirectory(fixture, PackageOf(name));
        return this;
    }

    /// <summary>A package the server cannot load: a config.json and nothing else.</summary>
    public TestModelRepository WithBroken(string name)
    {
        Directory.CreateDirectory(PackageOf(name));
        File.WriteAllText(Path.Combine(PackageOf(name), "config.json"), "{}");
        return this;
    }

    /// <summary>Rewrites the manifest's version, atomically (written beside, then renamed over), as a rollout tool would.</summary>
    public void SetVersion(string name, string version)
    {
        var manifestPath = Path.Combine(PackageOf(name), "caption_service.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        manifest["version"] = version;
        ReplaceFile(manifestPath, System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString()));
    }

    /// <summary>Replaces a file's contents atomically with a rename, so no reader sees it half-written.</summary>
    public void ReplaceFile(string path, byte[] contents)
    {
        var temporary = Path.Combine(_scratch, Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(temporary, contents);
        File.Move(temporary, path, overwrite: true);
    }

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(Root)!, recursive: true);

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
