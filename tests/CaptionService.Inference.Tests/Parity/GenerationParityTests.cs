using CaptionService.Inference.Encoding;
using CaptionService.Inference.Generation;
using CaptionService.Inference.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace CaptionService.Inference.Tests.Parity;

/// <summary>
/// The engine's searches, run on ONNX Runtime with the real package, return the n-best lists of
/// the training side's re-implementation of transformers' <c>generate</c>: the same token ids in
/// the same order, and the same scores and log-probabilities within the fixture's tolerance.
/// </summary>
public sealed class GenerationParityTests(ITestOutputHelper output)
{
    /// <summary>Every generation case, decoded with the state in host memory and on the device (IOBinding; host memory on CPU).</summary>
    public static TheoryData<string, string, DecoderStateKind> Cases()
    {
        var data = new TheoryData<string, string, DecoderStateKind>();
        foreach (var directory in Directory.EnumerateDirectories(Path.Combine(TestPaths.Fixtures, "parity")).Order(StringComparer.Ordinal))
        {
            if (File.Exists(Path.Combine(directory, GenerationCases.FileName)))
            {
                foreach (var generationCase in GenerationCases.Load(directory).Cases)
                {
                    data.Add(Path.GetFileName(directory), generationCase.Name, DecoderStateKind.Host);
                    data.Add(Path.GetFileName(directory), generationCase.Name, DecoderStateKind.Device);
                }
            }
        }

        return data;
    }

    [Theory]
    [InlineData("shapeworld-fusion")]
    [InlineData("vit-gpt2-tiny")]
    public void BothPackageLayoutsHaveGenerationCases(string package) =>
        Assert.NotEmpty(GenerationCases.Load(Path.Combine(TestPaths.Fixtures, "parity", package)).Cases);

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheEngineReproducesTheReferenceNBest(string packageName, string caseName, DecoderStateKind decoderState)
    {
        var fixtureDirectory = Path.Combine(TestPaths.Fixtures, "parity", packageName);
        var cases = GenerationCases.Load(fixtureDirectory);
        var generationCase = cases.Cases.Single(c => c.Name == caseName);
        var pipeline = ParityFixture.Load(fixtureDirectory).Cases.Single(c => c.Graph == "pipeline");
        using var package = ModelPackageLoader.Load(
            new ModelOptions { Path = FixtureDecoding.PackageDirectory(packageName), ExecutionProvider = ExecutionProviderKind.Cpu, DecoderState = decoderState },
            NullLogger.Instance);
        var plan = GenerationPlan.Create(
            generationCase.ToOptions(), package.MaxNewTokens, package.Generation.DecoderStartTokenId, package.Generation.EosTokenId, package.GenerationDefaults);

        var images = generationCase.Images.Count;
        var searches = Enumerable.Range(0, images).Select(_ => plan.CreateSearch()).ToArray();
        FixtureDecoding.Run(package, fixtureDirectory, pipeline.PixelValues!, searches);

        for (var i = 0; i < images; i++)
        {
            var expected = generationCase.Images[i];
            var actual = searches[i].Results;
            output.WriteLine($"{packageName}/{caseName}/image {i}: {string.Join(" | ", actual.Select(r => $"{r.Score:F5} {r.LogProb:F4} [{string.Join(' ', r.Tokens)}]"))}");
            Assert.Equal(expected.Select(h => h.Ids), actual.Select(r => r.Tokens));
            for (var rank = 0; rank < expected.Count; rank++)
            {
                Assert.Equal(expected[rank].Score.HasValue, actual[rank].Score.HasValue);
                if (expected[rank].Score is { } score)
                {
                    Assert.True(Math.Abs(score - actual[rank].Score!.Value) <= cases.Tolerance, $"image {i} rank {rank}: score {actual[rank].Score} vs {score}");
                }

                Assert.True(Math.Abs(expected[rank].LogProb - actual[rank].LogProb) <= cases.Tolerance, $"image {i} rank {rank}: logProb {actual[rank].LogProb} vs {expected[rank].LogProb}");
            }
        }
    }
}
