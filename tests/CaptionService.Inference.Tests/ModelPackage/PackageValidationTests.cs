using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>A broken package stops start-up with a <see cref="ModelPackageException"/> that names the file.</summary>
public sealed class PackageValidationTests : IDisposable
{
    private readonly TemporaryPackageCopy _copy = new();

    private string PackagePath => _copy.Path;

    public void Dispose() => _copy.Dispose();

    private ModelPackageException LoadFails() =>
        Assert.Throws<ModelPackageException>(() => CaptionEngine.Create(
            new ModelOptions { Path = PackagePath, ExecutionProvider = ExecutionProviderKind.Cpu },
            new BatchingOptions(),
            new PreprocessingOptions(),
            NullLoggerFactory.Instance));

    [Fact]
    public void AGraphWithOneChangedByteFailsItsSha256CheckNamingTheFile()
    {
        var graph = Path.Combine(PackagePath, "onnx", "decoder_model_merged.onnx");
        var bytes = File.ReadAllBytes(graph);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(graph, bytes);

        var ex = LoadFails();

        Assert.Contains(graph, ex.Message, StringComparison.Ordinal);
        Assert.Contains("sha256", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vocab.txt")]
    [InlineData("onnx/encoder_model.onnx")]
    [InlineData("preprocessor_config.json")]
    [InlineData("generation_config.json")]
    public void AMissingFileIsNamed(string relativePath)
    {
        var path = Path.GetFullPath(Path.Combine(PackagePath, relativePath));
        File.Delete(path);

        var ex = LoadFails();

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedJsonIsNamedWithWhatIsWrong()
    {
        var path = Path.Combine(PackagePath, "generation_config.json");
        File.WriteAllText(path, """{ "decoder_start_token_id": 2, "max_length": 32 }""");

        var ex = LoadFails();

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("eos_token_id", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GenerationDefaultsThatEveryRequestWouldBeRefusedForStopStartUp()
    {
        var path = Path.Combine(PackagePath, "generation_config.json");
        File.WriteAllText(path, """{ "decoder_start_token_id": 2, "eos_token_id": 3, "max_length": 32, "num_beams": 16 }""");

        var ex = LoadFails();

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("beams must be between 1 and 8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BeamSamplingByDefaultStopsStartUp()
    {
        var path = Path.Combine(PackagePath, "generation_config.json");
        File.WriteAllText(path, """{ "decoder_start_token_id": 2, "eos_token_id": 3, "max_length": 32, "num_beams": 4, "do_sample": true }""");

        var ex = LoadFails();

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("beam sampling", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AManifestNameTheGraphDoesNotHaveIsNamedWithTheGraphFile()
    {
        var manifest = Path.Combine(PackagePath, "caption_service.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"pixel_values\": \"pixel_values\"", "\"pixel_values\": \"pixels\"", StringComparison.Ordinal));

        var ex = LoadFails();

        Assert.Contains("encoder_model.onnx", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'pixels'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnImageCacheWithoutItsCachedDecoderIsRefused()
    {
        _copy.EditManifest(manifest => manifest["graphs"]!.AsObject().Remove("cached_decoder"));

        var ex = LoadFails();

        Assert.Contains(_copy.ManifestPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains("'graphs.cached_decoder'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnImageCacheNameTheGraphDoesNotHaveIsNamedWithTheGraphFile()
    {
        _copy.EditManifest(manifest => manifest["image_cache"]!["key"] = "cross.{i}.key");

        var ex = LoadFails();

        Assert.Contains("decoder_with_image_cache.onnx", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'cross.0.key'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingPackageDirectoryIsNamed()
    {
        Directory.Delete(PackagePath, recursive: true);
        Directory.CreateDirectory(PackagePath + "-other");
        try
        {
            var ex = LoadFails();
            Assert.Contains(PackagePath, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(PackagePath + "-other");
            Directory.CreateDirectory(PackagePath);
        }
    }
}
