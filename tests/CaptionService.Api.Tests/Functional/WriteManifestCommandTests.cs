using System.Text.Json;
using CaptionService.Api.Hosting;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary><c>CaptionService.Api write-manifest DIR</c> pins a Hugging Face export once, and never overwrites a manifest.</summary>
public sealed class WriteManifestCommandTests : IDisposable
{
    private readonly string _package = Path.Combine(Path.GetTempPath(), "captionservice-tests", Guid.NewGuid().ToString("N"));

    public WriteManifestCommandTests()
    {
        var fixture = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "fixtures", "vit-gpt2-tiny");
        foreach (var file in Directory.EnumerateFiles(fixture, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_package, Path.GetRelativePath(fixture, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        File.Delete(Path.Combine(_package, "caption_service.json"));
    }

    public void Dispose() => Directory.Delete(_package, recursive: true);

    [Fact]
    public void WritesTheInferredManifestWithDigestsThenRefusesToOverwriteIt()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(0, WriteManifestCommand.Run(_package, output, error));
        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(_package, "caption_service.json"))).RootElement;
        Assert.Equal(64, manifest.GetProperty("graphs").GetProperty("decoder").GetProperty("sha256").GetString()!.Length);
        Assert.Contains("caption_service.json", output.ToString(), StringComparison.Ordinal);

        Assert.Equal(1, WriteManifestCommand.Run(_package, output, error));
        Assert.Contains("exists already", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void WritesACLipPackagesManifestWithEveryGraphsDigest()
    {
        var clip = Path.Combine(_package, "clip");
        var fixture = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "fixtures", "clip-tiny");
        foreach (var file in Directory.EnumerateFiles(fixture, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(clip, Path.GetRelativePath(fixture, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(0, WriteManifestCommand.Run(clip, output, error));

        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(clip, "caption_service.json"))).RootElement;
        Assert.Equal("clip", manifest.GetProperty("kind").GetString());
        Assert.Equal(77, manifest.GetProperty("tokenizer").GetProperty("max_length").GetInt32());
        foreach (var graph in new[] { "model", "text_model", "vision_model" })
        {
            var entry = manifest.GetProperty("graphs").GetProperty(graph);
            var bytes = File.ReadAllBytes(Path.Combine(clip, entry.GetProperty("file").GetString()!));
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), entry.GetProperty("sha256").GetString());
        }
    }

    [Fact]
    public void RecordsTheVariantsOfAnExport()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(0, WriteManifestCommand.Run(_package, output, error));

        var encoder = JsonDocument.Parse(File.ReadAllText(Path.Combine(_package, "caption_service.json"))).RootElement.GetProperty("graphs").GetProperty("encoder");
        Assert.Equal("onnx/encoder_model_quantized.onnx", encoder.GetProperty("variants").GetProperty("q8").GetProperty("file").GetString());
        Assert.Equal(64, encoder.GetProperty("variants").GetProperty("q8").GetProperty("sha256").GetString()!.Length);
    }
}
