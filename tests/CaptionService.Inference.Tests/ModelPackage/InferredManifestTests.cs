using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionService.Inference.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>
/// An Optimum / transformers.js export without caption_service.json loads as it is: the manifest is
/// inferred (Optimum's names, the files' own sha256s), serves the same captions, and can be written
/// out to pin the package.
/// </summary>
public sealed class InferredManifestTests : IDisposable
{
    private static readonly string s_fixture = Path.Combine(TestPaths.Fixtures, "vit-gpt2-tiny");
    private static readonly string s_parity = Path.Combine(TestPaths.Fixtures, "parity", "vit-gpt2-tiny");
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly TemporaryPackageCopy _package = new(s_fixture);

    public InferredManifestTests() => File.Delete(_package.ManifestPath);

    public void Dispose()
    {
        _package.Dispose();
        _timeout.Dispose();
    }

    [Fact]
    public async Task TheFixtureWithoutItsManifestServesTheSameCaptions()
    {
        await using var engine = Create();
        await using var pinned = CaptionEngine.Create(Options(s_fixture), new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance);

        for (var i = 0; i < 2; i++)
        {
            var image = File.ReadAllBytes(Path.Combine(s_parity, $"image-{i}.png"));
            var options = new GenerationOptions { Beams = 3, Alternatives = 3 };
            Assert.Equal(
                (await pinned.CaptionAsync(image, options, _timeout.Token)).Alternatives,
                (await engine.CaptionAsync(image, options, _timeout.Token)).Alternatives);
        }

        Assert.Equal("inferred", engine.Model.ManifestSource);
        Assert.Equal(ModelPackageLoader.ManifestFile, pinned.Model.ManifestSource);
    }

    [Fact]
    public async Task TheInferredManifestIsTheExportersApartFromNameAndVersion()
    {
        await using var engine = Create();

        var inferred = JsonNode.Parse(engine.Model.ManifestJson)!.AsObject();
        var exported = JsonNode.Parse(File.ReadAllText(Path.Combine(s_fixture, ModelPackageLoader.ManifestFile)))!.AsObject();
        Assert.Equal(InferredManifest.Version, inferred["version"]!.GetValue<string>());
        foreach (var identity in new[] { "name", "version" })
        {
            inferred.Remove(identity);
            exported.Remove(identity);
        }

        Assert.True(JsonNode.DeepEquals(exported, inferred), $"inferred {inferred.ToJsonString()}\nexported {exported.ToJsonString()}");
    }

    [Fact]
    public async Task AWrittenManifestPinsThePackage()
    {
        var path = InferredManifest.Write(_package.Path, InferredManifest.Infer(_package.Path));
        await using (var engine = Create())
        {
            Assert.Equal(ModelPackageLoader.ManifestFile, engine.Model.ManifestSource);
            Assert.Equal(path, _package.ManifestPath);
        }

        var encoder = Path.Combine(_package.Path, InferredManifest.EncoderFile);
        var bytes = File.ReadAllBytes(encoder);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(encoder, bytes);
        var ex = Assert.Throws<ModelPackageException>(Create);
        Assert.Contains("sha256", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void AnExportWithoutATokenizerVocabularySaysWhatItNeeds()
    {
        File.Delete(Path.Combine(_package.Path, "vocab.json"));
        File.Delete(Path.Combine(_package.Path, "tokenizer.json"));

        var ex = Assert.Throws<ModelPackageException>(Create);

        Assert.Contains("vocab.json and merges.txt", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APackageThatIsNotAnOptimumExportAndLacksItsManifestSaysBoth()
    {
        using var package = new TemporaryPackageCopy();
        File.Delete(package.ManifestPath);

        var ex = Assert.Throws<ModelPackageException>(() => CaptionEngine.Create(
            Options(package.Path), new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance));

        Assert.Contains($"has no {ModelPackageLoader.ManifestFile}, so it was read as an Optimum / transformers.js export", ex.Message, StringComparison.Ordinal);
    }

    private static ModelOptions Options(string path) => new() { Path = path, ExecutionProvider = ExecutionProviderKind.Cpu };

    private CaptionEngine Create() =>
        CaptionEngine.Create(Options(_package.Path), new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance);
}
