using CaptionService.Inference.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>
/// The default package's image cache (cross-attention keys and values computed once per image)
/// changes how much the engine computes, not what it generates: the merged decoder, which reads the
/// encoder states at every step, gives the same captions and log-probabilities.
/// </summary>
public sealed class ImageCacheDecodingTests : IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly TemporaryPackageCopy _withoutCache = new();

    public ImageCacheDecodingTests() =>
        _withoutCache.EditManifest(manifest =>
        {
            manifest.Remove("image_cache");
            manifest["graphs"]!.AsObject().Remove("image_cache");
            manifest["graphs"]!.AsObject().Remove("cached_decoder");

            // The explanation outputs are the cached decoder's; the merged decoder it now decodes with
            // has none, so neither the outputs nor the heads picked among them apply.
            manifest["decoder"]!.AsObject().Remove("cross_attentions");
            manifest["decoder"]!.AsObject().Remove("cross_attention_heads");
        });

    public void Dispose()
    {
        _withoutCache.Dispose();
        _timeout.Dispose();
    }

    private static byte[] FixtureImage(int index) =>
        File.ReadAllBytes(Path.Combine(TestPaths.Fixtures, "parity", "shapeworld-fusion", $"image-{index}.png"));

    private static ModelOptions Options(string path) => new() { Path = path, ExecutionProvider = ExecutionProviderKind.Cpu, IntraOpThreads = 1 };

    private static CaptionEngine Engine(string path) =>
        CaptionEngine.Create(Options(path), new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance);

    [Fact]
    public void TheDefaultPackageDecodesWithTheImageCacheAndTheEditedCopyWithout()
    {
        using var cached = ModelPackageLoader.Load(Options(TestPaths.DefaultPackage), NullLogger.Instance);
        using var merged = ModelPackageLoader.Load(Options(_withoutCache.Path), NullLogger.Instance);

        Assert.True(cached.Decoder.CachesImageKeysValues);
        Assert.False(merged.Decoder.CachesImageKeysValues);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 3)]
    public async Task CaptionsAndLogProbsAreTheSameWithAndWithoutTheImageCache(int beams, int alternatives)
    {
        await using var cached = Engine(TestPaths.DefaultPackage);
        await using var merged = Engine(_withoutCache.Path);
        var options = new GenerationOptions { Beams = beams, Alternatives = alternatives };

        // Two images at once, so that their rows decode in one batch and finish at different steps.
        byte[][] images = [FixtureImage(0), FixtureImage(1)];
        var withCache = await Task.WhenAll(images.Select(image => cached.CaptionAsync(image, options, _timeout.Token)));
        var withoutCache = await Task.WhenAll(images.Select(image => merged.CaptionAsync(image, options, _timeout.Token)));

        for (var request = 0; request < images.Length; request++)
        {
            Assert.Equal(
                withoutCache[request].Alternatives.Select(a => a.Caption),
                withCache[request].Alternatives.Select(a => a.Caption));
            foreach (var (expected, actual) in withoutCache[request].Alternatives.Zip(withCache[request].Alternatives))
            {
                Assert.Equal(expected.LogProb, actual.LogProb, tolerance: 1e-4);
            }
        }
    }
}
