using CaptionService.Inference.Encoding;
using CaptionService.Inference.Generation;
using CaptionService.Inference.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace CaptionService.Inference.Tests.Parity;

/// <summary>ONNX Runtime, as the engine runs it, reproduces the exporter's PyTorch reference tensors.</summary>
public sealed class OrtParityTests(ITestOutputHelper output)
{
    /// <summary>Every fixture under tests/fixtures/parity, one per package.</summary>
    public static TheoryData<string> Packages() =>
        [.. Directory.EnumerateDirectories(Path.Combine(TestPaths.Fixtures, "parity")).Select(Path.GetFileName).OfType<string>()];

    /// <summary>The fixtures with a greedy-captioning case (all but CLIP's, which cannot caption).</summary>
    public static TheoryData<string> CaptioningPackages() =>
        [.. Directory.EnumerateDirectories(Path.Combine(TestPaths.Fixtures, "parity")).Select(Path.GetFileName).OfType<string>().Where(package => ParityFixture.Load(FixtureDirectory(package)).Cases.Any(c => c.Graph == "pipeline"))];

    public static TheoryData<string, string> GraphCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var package in Packages())
        {
            foreach (var parityCase in ParityFixture.Load(FixtureDirectory(package)).Cases.Where(c => c.Graph != "pipeline"))
            {
                data.Add(package, parityCase.Name);
            }
        }

        return data;
    }

    [Fact]
    public void TheDefaultPackageHasAParityFixture() => Assert.Contains("shapeworld-fusion", Packages());

    [Theory]
    [MemberData(nameof(GraphCases))]
    public void EachGraphReproducesThePyTorchOutputsWithinTheTolerance(string package, string caseName)
    {
        var fixtureDirectory = FixtureDirectory(package);
        var fixture = ParityFixture.Load(fixtureDirectory);
        var parityCase = fixture.Cases.Single(c => c.Name == caseName);
        var packageDirectory = FixtureDecoding.PackageDirectory(package);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(Path.Combine(packageDirectory, GraphFile(packageDirectory, parityCase.Graph)), options);

        var inputNames = parityCase.Inputs!.Keys.ToArray();
        var inputs = inputNames.Select(name => Load(fixtureDirectory, parityCase.Inputs[name])).ToArray();
        var outputNames = parityCase.Outputs!.Keys.ToArray();
        try
        {
            using var outputs = session.Run(new RunOptions(), inputNames, inputs, outputNames);
            for (var i = 0; i < outputNames.Length; i++)
            {
                var reference = parityCase.Outputs[outputNames[i]];
                Assert.Equal(reference.Shape, outputs[i].GetTensorTypeAndShape().Shape);
                var expected = TensorFile.ReadFloats(Path.Combine(fixtureDirectory, reference.File));
                var maxDiff = MaxAbsDifference(outputs[i].GetTensorDataAsSpan<float>(), expected);
                output.WriteLine($"{package}/{caseName}/{outputNames[i]}: max |diff| {maxDiff:E2}");
                Assert.True(maxDiff <= fixture.Tolerance, $"{caseName}/{outputNames[i]}: max |diff| {maxDiff:E2} > {fixture.Tolerance:E0}");
            }
        }
        finally
        {
            foreach (var input in inputs)
            {
                input.Dispose();
            }
        }
    }

    [Theory]
    [MemberData(nameof(CaptioningPackages))]
    public void GreedyCaptioningThroughTheEngineGivesThePythonIdsAndCaptions(string packageName)
    {
        var fixtureDirectory = FixtureDirectory(packageName);
        var greedy = ParityFixture.Load(fixtureDirectory).Cases.Single(c => c.Graph == "pipeline");
        using var package = ModelPackageLoader.Load(
            new ModelOptions { Path = FixtureDecoding.PackageDirectory(packageName), ExecutionProvider = ExecutionProviderKind.Cpu }, NullLogger.Instance);
        var images = (int)greedy.PixelValues!.Shape[0];
        var searches = Enumerable.Range(0, images).Select(_ => new GreedySearch(package.MaxNewTokens, package.Generation.EosTokenId)).ToArray();
        FixtureDecoding.Run(package, fixtureDirectory, greedy.PixelValues, searches);

        for (var i = 0; i < images; i++)
        {
            var generated = Assert.Single(searches[i].Results);
            Assert.Equal(greedy.ExpectedIds![i], generated.Tokens);
            Assert.Equal(greedy.ExpectedCaptions![i], package.Tokenizer.Decode(generated.Tokens));
        }
    }

    /// <summary>The graph file a case runs: named by caption_service.json, or for a CLIP package <c>onnx/&lt;graph&gt;.onnx</c> (model, text_model, vision_model).</summary>
    private static string GraphFile(string packageDirectory, string graph)
    {
        if (ClipPackageLoader.IsClipPackage(packageDirectory))
        {
            return $"onnx/{graph}.onnx";
        }

        var manifest = PackageJson.Read<PackageManifest>(packageDirectory, ModelPackageLoader.ManifestFile);
        return (graph switch
        {
            "encoder" => manifest.Graphs.Encoder,
            "decoder" => manifest.Graphs.Decoder,
            "fusion" => manifest.Graphs.Fusion!,
            "image_cache" => manifest.Graphs.ImageCache!,
            "cached_decoder" => manifest.Graphs.CachedDecoder!,
            _ => throw new InvalidOperationException($"Unknown graph '{graph}'."),
        }).File;
    }

    private static string FixtureDirectory(string package) => Path.Combine(TestPaths.Fixtures, "parity", package);

    private static OrtValue Load(string fixtureDirectory, TensorReference reference)
    {
        var path = Path.Combine(fixtureDirectory, reference.File);
        return reference.Dtype switch
        {
            "float32" => OrtValue.CreateTensorValueFromMemory(TensorFile.ReadFloats(path), reference.Shape),
            "int64" => OrtValue.CreateTensorValueFromMemory(TensorFile.ReadInt64s(path), reference.Shape),
            "bool" => OrtValue.CreateTensorValueFromMemory(TensorFile.ReadBools(path), reference.Shape),
            _ => throw new InvalidOperationException($"Unknown dtype '{reference.Dtype}'."),
        };
    }

    private static float MaxAbsDifference(ReadOnlySpan<float> actual, float[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        var max = 0f;
        for (var i = 0; i < actual.Length; i++)
        {
            max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
        }

        return max;
    }
}
