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
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var directory in Directory.EnumerateDirectories(Path.Combine(TestPaths.Fixtures, "parity")).Order(StringComparer.Ordinal))
        {
            if (File.Exists(Path.Combine(directory, GenerationCases.FileName)))
            {
                foreach (var generationCase in GenerationCases.Load(directory).Cases)
                {
                    data.Add(Path.GetFileName(directory), generationCase.Name);
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
    public void TheEngineReproducesTheReferenceNBest(string packageName, string caseName)
    {
        var fixtureDirectory = Path.Combine(TestPaths.Fixtures, "parity", packageName);
        var cases = GenerationCases.Load(fixtureDirectory);
        var generationCase = cases.Cases.Single(c => c.Name == caseName);
        var pipeline = ParityFixture.Load(fixtureDirectory).Cases.Single(c => c.Graph == "pipeline");
        using var package = ModelPackageLoader.Load(
            new ModelOptions { Path = PackageDirectory(packageName), ExecutionProvider = ExecutionProviderKind.Cpu }, NullLogger.Instance);
        var plan = GenerationPlan.Create(
            generationCase.ToOptions(), package.MaxNewTokens, package.Generation.DecoderStartTokenId, package.Generation.EosTokenId, package.GenerationDefaults);

        var encoder = new ImageEncoder(package.Encoder, package.ImageTransform.Height, package.ImageTransform.Width);
        var pixels = TensorFile.ReadFloats(Path.Combine(fixtureDirectory, pipeline.PixelValues!.File));
        var images = generationCase.Images.Count;
        var imageBuffers = Enumerable.Range(0, images).Select(i =>
        {
            var buffer = new PooledBuffer<float>(encoder.ImageLength);
            pixels.AsSpan(i * encoder.ImageLength, encoder.ImageLength).CopyTo(buffer.Span);
            return buffer;
        }).ToList();
        var states = encoder.Encode(imageBuffers);
        var searches = states.Select(_ => plan.CreateSearch()).ToArray();
        try
        {
            using (var decoder = new OnnxDecoderStep(package.Decoder, states))
            {
                SearchDriver.Run(decoder, searches, package.Generation.DecoderStartTokenId, [.. searches.Select(_ => CancellationToken.None)], _ => { }, _ => { });
            }

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
        finally
        {
            imageBuffers.ForEach(b => b.Dispose());
            Array.ForEach(states, s => s.Dispose());
        }
    }

    /// <summary>The bundled package under models/, or a test fixture package under tests/fixtures/.</summary>
    private static string PackageDirectory(string package)
    {
        var bundled = Path.Combine(TestPaths.RepositoryRoot, "models", package);
        return Directory.Exists(bundled) ? bundled : Path.Combine(TestPaths.Fixtures, package);
    }
}
