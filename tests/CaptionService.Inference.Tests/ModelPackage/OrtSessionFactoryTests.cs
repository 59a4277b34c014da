using CaptionService.Inference.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>A graph ONNX Runtime rejects is named in the error as what it is: a package's file, or one of the engine's own graphs.</summary>
public sealed class OrtSessionFactoryTests
{
    private static readonly byte[] NotAGraph = "not an ONNX graph"u8.ToArray();

    private readonly OrtSessionFactory _factory = OrtSessionFactory.Create(
        new ModelOptions { Path = TestPaths.DefaultPackage, ExecutionProvider = ExecutionProviderKind.Cpu }, NullLogger.Instance);

    [Fact]
    public void APackageFileThatIsNoGraphIsNamedAsThePackagesFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"not-a-graph-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, NotAGraph);
        try
        {
            var ex = Assert.Throws<ModelPackageException>(() => _factory.CreateSession(path));

            Assert.StartsWith($"Model package file '{path}' cannot be loaded by ONNX Runtime: ", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AnEmbeddedGraphThatFailsIsNamedAsTheEnginesOwnNotThePackages()
    {
        var ex = Assert.Throws<ModelPackageException>(() => _factory.CreateSession(NotAGraph, "gather_rows.onnx"));

        Assert.StartsWith("The engine's own graph 'gather_rows.onnx' (embedded in CaptionService.Inference, not part of the package) cannot be loaded",
            ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Model package file", ex.Message, StringComparison.Ordinal);
    }
}
