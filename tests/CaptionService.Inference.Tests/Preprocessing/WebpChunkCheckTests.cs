using System.Buffers.Binary;
using CaptionService.Inference.Preprocessing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace CaptionService.Inference.Tests.Preprocessing;

public sealed class WebpChunkCheckTests
{
    public static TheoryData<WebpFileFormatType> FileFormats() => [WebpFileFormatType.Lossless, WebpFileFormatType.Lossy];

    [Theory]
    [MemberData(nameof(FileFormats))]
    public void AWholeWebpPassesAndEveryCutInsideItsImageChunkIsRefused(WebpFileFormatType fileFormat)
    {
        using var image = new Image<Rgb24>(16, 16, new Rgb24(200, 10, 10));
        using var stream = new MemoryStream();
        image.Save(stream, new WebpEncoder { FileFormat = fileFormat });
        var webp = stream.ToArray();

        Assert.Null(WebpChunkCheck.FindProblem(webp));
        for (var length = 20; length < webp.Length; length++)
        {
            var problem = WebpChunkCheck.FindProblem(webp.AsSpan(0, length));
            Assert.NotNull(problem);
            Assert.Contains($"only {length - 20} follow", problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AfterAVp8XHeaderAnyChunkRunningPastTheEndIsRefused()
    {
        // An EXIF chunk claiming 2^31 bytes: the decoder would allocate that much, then (for a
        // size its Skip takes as negative) read the next chunk from inside this one.
        var webp = Extended(Chunk("EXIF", 16, declaredSize: 1u << 31), Chunk("VP8L", 20));

        Assert.Equal("it is truncated: its 'EXIF' chunk at byte 30 declares 2147483648 bytes but only 44 follow", WebpChunkCheck.FindProblem(webp));
    }

    [Fact]
    public void AfterAVp8XHeaderATruncatedImageChunkBehindOtherChunksIsFound()
    {
        var webp = Extended(Chunk("ICCP", 6), Chunk("\u0001\u0002\u0003\u0004", 3), Chunk("VP8L", 10, declaredSize: 400));

        Assert.Equal("it is truncated: its 'VP8L' chunk at byte 56 declares 400 bytes but only 10 follow", WebpChunkCheck.FindProblem(webp));
        Assert.Null(WebpChunkCheck.FindProblem(Extended(Chunk("ICCP", 6), Chunk("VP8L", 10))));
    }

    [Fact]
    public void AnOddChunkWithoutItsPaddingByteIsRefusedBecauseTheDecoderReadsThatByteToo()
    {
        var webp = Simple(Chunk("VP8L", 7)[..^1]);

        Assert.Equal("it is truncated: its 'VP8L' chunk at byte 12 declares 7 bytes (and a padding byte) but only 7 follow", WebpChunkCheck.FindProblem(webp));
    }

    [Fact]
    public void OtherBytesAreLeftToTheDecoder()
    {
        Assert.Null(WebpChunkCheck.FindProblem("RIFF\0\0\0\0WEBPABCD\u00ff\u00ff\u00ff\u00ff"u8));
        Assert.Null(WebpChunkCheck.FindProblem("GIF89a"u8));
        Assert.Null(WebpChunkCheck.FindProblem(ReadOnlySpan<byte>.Empty));
    }

    private static byte[] Simple(byte[] chunk) => [.. "RIFF"u8, 0, 0, 0, 0, .. "WEBP"u8, .. chunk];

    private static byte[] Extended(params byte[][] chunks) =>
        [.. Simple(Chunk("VP8X", 10)), .. chunks.SelectMany(chunk => chunk)];

    /// <summary>A chunk with <paramref name="payload"/> zero bytes (and the padding byte when odd), declaring its size or <paramref name="declaredSize"/>.</summary>
    private static byte[] Chunk(string type, int payload, uint? declaredSize = null)
    {
        var chunk = new byte[8 + payload + (payload & 1)];
        for (var i = 0; i < 4; i++)
        {
            chunk[i] = (byte)type[i];
        }

        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(4), declaredSize ?? (uint)payload);
        return chunk;
    }
}
