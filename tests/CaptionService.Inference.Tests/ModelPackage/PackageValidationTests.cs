using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>A broken package stops start-up with a <see cref="ModelPackageException"/> that names the file.</summary>
public sealed class PackageValidationTests : IDisposable
{
    private readonly string _package = Path.Combine(Path.GetTempPath(), "caption-engine-tests", Guid.NewGuid().ToString("N"));

    public PackageValidationTests()
    {
        foreach (var file in Directory.EnumerateFiles(TestPaths.DefaultPackage, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_package, Path.GetRelativePath(TestPaths.DefaultPackage, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public void Dispose() => Directory.Delete(_package, recursive: true);

    private ModelPackageException LoadFails() =>
        Assert.Throws<ModelPackageException>(() => CaptionEngine.Create(
            new ModelOptions { Path = _package, ExecutionProvider = ExecutionProviderKind.Cpu },
            new BatchingOptions(),
            new PreprocessingOptions(),
            NullLoggerFactory.Instance));

    [Fact]
    public void AGraphWithOneChangedByteFailsItsSha256CheckNamingTheFile()
    {
        var graph = Path.Combine(_package, "onnx", "decoder_model_merged.onnx");
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
    [InlineData("caption_service.json")]
    public void AMissingFileIsNamed(string relativePath)
    {
        var path = Path.GetFullPath(Path.Combine(_package, relativePath));
        File.Delete(path);

        var ex = LoadFails();

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedJsonIsNamedWithWhatIsWrong()
    {
        var path = Path.Combine(_package, "generation_config.json");
        File.WriteAllText(path, """{ "decoder_start_token_id": 2, "max_length": 32 }""");

        var ex = LoadFails();

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("eos_token_id", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AManifestNameTheGraphDoesNotHaveIsNamedWithTheGraphFile()
    {
        var manifest = Path.Combine(_package, "caption_service.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"pixel_values\": \"pixel_values\"", "\"pixel_values\": \"pixels\"", StringComparison.Ordinal));

        var ex = LoadFails();

        Assert.Contains("encoder_model.onnx", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'pixels'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingPackageDirectoryIsNamed()
    {
        Directory.Delete(_package, recursive: true);
        Directory.CreateDirectory(_package + "-other");
        try
        {
            var ex = LoadFails();
            Assert.Contains(_package, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(_package + "-other");
            Directory.CreateDirectory(_package);
        }
    }
}
