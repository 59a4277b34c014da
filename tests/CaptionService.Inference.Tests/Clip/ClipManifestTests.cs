using System.Text.Json.Nodes;
using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Tests.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.Clip;

/// <summary>
/// A CLIP package pinned by caption_service.json (<see cref="ClipManifest"/>, what <c>write-manifest</c>
/// writes), and <c>CaptionService:Model:Dtype</c> on CLIP packages.
/// </summary>
public sealed class ClipManifestTests : IDisposable
{
    private readonly TemporaryPackageCopy _package = new(ClipReference.Package);

    public void Dispose() => _package.Dispose();

    [Fact]
    public async Task AWrittenManifestPinsEveryGraphAndAChangedOneStopsStartUp()
    {
        var path = ClipManifest.Infer(_package.Path, 77).Write(_package.Path);
        await using (var engine = Create())
        {
            Assert.Equal(ModelPackageLoader.ManifestFile, engine.Model.ManifestSource);
            Assert.Equal(_package.ManifestPath, path);
            var graphs = JsonNode.Parse(engine.Model.ManifestJson)!["graphs"]!.AsObject();
            Assert.Equal(["model", "text_model", "vision_model"], graphs.Select(p => p.Key));
            Assert.All(graphs, g => Assert.Equal(64, g.Value!["sha256"]!.GetValue<string>().Length));
        }

        var text = Path.Combine(_package.Path, "onnx", "text_model.onnx");
        var bytes = File.ReadAllBytes(text);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(text, bytes);
        var ex = Assert.Throws<ModelPackageException>(() => Create());
        Assert.Contains("text_model.onnx' is corrupt", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AManifestThatDoesNotPinAGraphTheServerWouldLoadIsRefused()
    {
        ClipManifest.Infer(_package.Path, 77).Write(_package.Path);
        _package.EditManifest(manifest => manifest["graphs"]!.AsObject().Remove("vision_model"));

        var ex = Assert.Throws<ModelPackageException>(() => Create());

        Assert.Contains("does not pin 'onnx/vision_model.onnx'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AManifestOfAnotherKindIsRefused()
    {
        ClipManifest.Infer(_package.Path, 77).Write(_package.Path);
        _package.EditManifest(manifest => manifest["kind"] = "captioning");

        var ex = Assert.Throws<ModelPackageException>(() => Create());

        Assert.Contains("expected 'clip'", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Which files a dtype selects: with only the combined graph in fp16 (here a copy of the fp32 file,
    /// so this checks the choice of files, not fp16 numerics) the server runs it rather than the fp32 towers.
    /// </summary>
    [Fact]
    public async Task ADtypeSelectsItsVariantsAndFallsBackToTheCombinedGraphOfThatVariant()
    {
        File.Copy(Path.Combine(_package.Path, "onnx", "model.onnx"), Path.Combine(_package.Path, "onnx", "model_fp16.onnx"));

        await using var engine = Create("fp16");

        Assert.Equal("fp16", engine.Model.Dtype);
        var manifest = JsonNode.Parse(engine.Model.ManifestJson)!;
        Assert.Equal("model", manifest["scoring"]!["towers"]!.GetValue<string>());
        Assert.Equal("onnx/model_fp16.onnx", manifest["graphs"]!["model"]!["variants"]!["fp16"]!["file"]!.GetValue<string>());
    }

    [Fact]
    public void AVariantThePackageLacksStopsStartUpNamingTheGraphFilesItHas()
    {
        var ex = Assert.Throws<ModelPackageException>(() => Create("q8"));

        Assert.Contains("CaptionService:Model:Dtype is 'q8', but the package has no 'onnx/model_quantized.onnx'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("onnx/model.onnx, onnx/text_model.onnx, onnx/vision_model.onnx", ex.Message, StringComparison.Ordinal);
    }

    private ClipEngine Create(string dtype = ModelDtypes.Default) =>
        (ClipEngine)InferenceEngines.Create(
            new ModelOptions { Path = _package.Path, ExecutionProvider = ExecutionProviderKind.Cpu, Dtype = dtype }, new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance);
}
