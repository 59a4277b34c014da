using System.Buffers;
using System.Buffers.Binary;
using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Preprocessing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace CaptionService.Inference.Tests.Preprocessing;

/// <summary>
/// WebP inputs answer from their own bytes alone: ImageSharp 2.1.13 decodes a truncated VP8 or VP8L
/// chunk with whatever its pooled buffer held before (see <see cref="WebpChunkCheck"/>), so these
/// tests fill the pool with different bytes before each preprocessing and require the same answer
/// every time. The decoder's allocation limit still refuses an image too large for it.
/// </summary>
public sealed class WebpDecodingTests
{
    private const int Side = 100;

    private static readonly string Scene = Path.Combine(TestPaths.RepositoryRoot, "tests", "data", "shapeworld", "existential-oneshape", "world-0.png");

    /// <summary>The scene at its own size, so that no resize blurs what the decoder produced.</summary>
    private static ImagePreprocessor Create(PreprocessingOptions? limits = null) =>
        new(limits ?? new PreprocessingOptions(), ImageTransform.FromConfig(
            new PreprocessorConfig(DoResize: true, Resample: 2, DoRescale: true, RescaleFactor: 1 / 255.0, DoNormalize: false,
                Size: new ImageSize(Side, Side), ImageMean: [0, 0, 0], ImageStd: [1, 1, 1]),
            "preprocessor_config.json", graphHeight: null, graphWidth: null));

    [Fact]
    public void TheFixtureWhoseAnswerDependedOnThePoolIsRefusedAsTruncatedWhateverThePoolHeld()
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.Fixtures, "malformed-images", "webp-lossless-image-data-index.webp"));
        var preprocessor = Create();

        var answers = AnswersAfterDifferentPoolContents(preprocessor, bytes, rounds: 5);

        var answer = Assert.Single(answers);
        Assert.Equal("UnprocessableImage: The WebP image cannot be decoded: it is truncated: its 'VP8L' chunk at byte 12 declares 1665 bytes (and a padding byte) but only 106 follow.", answer);
    }

    public static TheoryData<bool> Lossless() => [true, false];

    [Theory]
    [MemberData(nameof(Lossless))]
    public void EveryTruncationOfAWebpAnswersTheSameWhateverThePoolHeld(bool lossless)
    {
        var full = Encode(lossless);
        var preprocessor = Create();
        var unstable = new List<string>();

        for (var length = 1; length <= full.Length; length++)
        {
            var answers = AnswersAfterDifferentPoolContents(preprocessor, full[..length], rounds: 2);
            if (answers.Count > 1)
            {
                unstable.Add($"{length} of {full.Length} bytes: {string.Join(" | ", answers)}");
            }
        }

        Assert.True(unstable.Count == 0, $"{unstable.Count} truncations answered differently after different pool contents:\n{string.Join('\n', unstable.Take(10))}");
        // The whole file still decodes, to the same pixels each time.
        Assert.StartsWith("pixels ", Assert.Single(AnswersAfterDifferentPoolContents(preprocessor, full, rounds: 2)), StringComparison.Ordinal);
    }

    [Fact]
    public void TheDecoderAllocationLimitStillRefusesAWebpDeclaringAHugeImage()
    {
        // A whole (not truncated) lossless WebP declaring 4000 × 4000: 16 M pixels, under the
        // pixel limit, but its 48 MB of decoded RGB exceed an 8 MB decoder limit.
        var bytes = LosslessHeaderOnly(width: 4000, height: 4000, dataBytes: 15);
        Assert.Null(WebpChunkCheck.FindProblem(bytes));

        var limited = Assert.Throws<InferenceRejectedException>(() =>
            Create(new PreprocessingOptions { MaxDecoderMemoryMegabytes = 8 }).Preprocess(bytes).Dispose());
        var unlimited = Assert.Throws<InferenceRejectedException>(() => Create().Preprocess(bytes).Dispose());

        Assert.Equal(RejectionReason.UnprocessableImage, limited.Reason);
        // ImageSharp's words for an allocation its allocator refused (InvalidMemoryOperationException).
        Assert.Contains("Failed to allocate buffers for possibly degenerate dimensions: 4000x4000", limited.Message, StringComparison.Ordinal);
        // Under the default limit the same bytes get as far as their (empty) image data.
        Assert.DoesNotContain("Failed to allocate", unlimited.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The distinct answers (the rejection, or a digest of the tensor) to the same bytes, each after
    /// the shared array pool ImageSharp rents its small buffers from was filled with other bytes
    /// (zeros, ones, random) on this thread.
    /// </summary>
    private static HashSet<string> AnswersAfterDifferentPoolContents(ImagePreprocessor preprocessor, byte[] bytes, int rounds)
    {
        var random = new Random(2709);
        var answers = new HashSet<string>(StringComparer.Ordinal);
        for (var round = 0; round < rounds; round++)
        {
            foreach (var fill in new int?[] { 0x00, 0xFF, null })
            {
                FillSharedArrayPool(fill, random);
                answers.Add(Answer(preprocessor, bytes));
            }
        }

        return answers;
    }

    private static string Answer(ImagePreprocessor preprocessor, byte[] bytes)
    {
        try
        {
            using var tensor = preprocessor.Preprocess(bytes);
            var digest = new HashCode();
            foreach (var value in tensor.Span)
            {
                digest.Add(value);
            }

            return $"pixels {digest.ToHashCode()}";
        }
        catch (InferenceRejectedException ex)
        {
            return $"{ex.Reason}: {ex.Message}";
        }
    }

    /// <summary>Rents several arrays of every size up to 128 KB (more than these images' buffers), fills and returns them.</summary>
    private static void FillSharedArrayPool(int? fill, Random random)
    {
        for (var size = 16; size <= 128 * 1024; size *= 2)
        {
            var arrays = Enumerable.Range(0, 4).Select(_ => ArrayPool<byte>.Shared.Rent(size)).ToArray();
            foreach (var array in arrays)
            {
                if (fill is { } value)
                {
                    array.AsSpan().Fill((byte)value);
                }
                else
                {
                    random.NextBytes(array);
                }

                ArrayPool<byte>.Shared.Return(array);
            }
        }
    }

    private static byte[] Encode(bool lossless)
    {
        using var image = Image.Load<Rgb24>(Scene);
        using var stream = new MemoryStream();
        image.Save(stream, new WebpEncoder { FileFormat = lossless ? WebpFileFormatType.Lossless : WebpFileFormatType.Lossy });
        return stream.ToArray();
    }

    /// <summary>RIFF, one VP8L chunk: the signature byte, 14 bits each of width − 1 and height − 1, alpha and version bits (0), then zero bytes; an even chunk, so that it needs no padding byte.</summary>
    internal static byte[] LosslessHeaderOnly(int width, int height, int dataBytes)
    {
        var chunk = 5 + dataBytes;
        var bytes = new byte[12 + 8 + chunk];
        "RIFF"u8.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)(bytes.Length - 8));
        "WEBPVP8L"u8.CopyTo(bytes.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), (uint)chunk);
        bytes[20] = 0x2F;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(21), (uint)((width - 1) | ((height - 1) << 14)));
        return bytes;
    }
}
