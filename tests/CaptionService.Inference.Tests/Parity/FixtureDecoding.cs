using CaptionService.Inference.Encoding;
using CaptionService.Inference.Generation;
using CaptionService.Inference.ModelPackage;

namespace CaptionService.Inference.Tests.Parity;

/// <summary>Runs searches over a parity fixture's images the way the engine does: its encoder, then one decoder batch.</summary>
internal static class FixtureDecoding
{
    /// <summary>The package a fixture belongs to: the bundled one under models/, or a test fixture package under tests/fixtures/.</summary>
    public static string PackageDirectory(string package)
    {
        var bundled = Path.Combine(TestPaths.RepositoryRoot, "models", package);
        return Directory.Exists(bundled) ? bundled : Path.Combine(TestPaths.Fixtures, package);
    }

    /// <summary>
    /// Encodes the first <c>searches.Count</c> images of <paramref name="pixelValues"/> and runs one
    /// search per image to completion, with the decoding state where the package's options put it.
    /// </summary>
    public static void Run(LoadedModelPackage package, string fixtureDirectory, TensorReference pixelValues, IReadOnlyList<ISearch> searches)
    {
        var encoder = new ImageEncoder(package.Encoder, package.ImageTransform.Height, package.ImageTransform.Width);
        var pixels = TensorFile.ReadFloats(Path.Combine(fixtureDirectory, pixelValues.File));
        var imageBuffers = Enumerable.Range(0, searches.Count).Select(i =>
        {
            var buffer = new PooledBuffer<float>(encoder.ImageLength);
            pixels.AsSpan(i * encoder.ImageLength, encoder.ImageLength).CopyTo(buffer.Span);
            return buffer;
        }).ToList();
        var states = encoder.Encode(imageBuffers);
        try
        {
            using var decoder = package.Decoder.CreateStep(states);
            SearchDriver.Run(decoder, searches, package.Generation.DecoderStartTokenId, [.. searches.Select(_ => CancellationToken.None)], _ => { }, _ => { });
        }
        finally
        {
            imageBuffers.ForEach(b => b.Dispose());
            Array.ForEach(states, s => s.Dispose());
        }
    }
}
