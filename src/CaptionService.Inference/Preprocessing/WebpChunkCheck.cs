using System.Buffers.Binary;

namespace CaptionService.Inference.Preprocessing;

/// <summary>
/// ImageSharp 2.1.13 reads a WebP's VP8 (lossy) or VP8L (lossless) chunk into a pooled buffer as
/// long as the chunk's declared size, without clearing it and without checking how many bytes the
/// read returned. When the file ends before the chunk does, the rest of that buffer is whatever an
/// earlier user of the pool left there, and the decoder decodes it as image data: the same bytes
/// then decode to different pixels, or fail, depending on earlier requests, and an earlier
/// request's data can flow into this one's caption. This check runs before ImageSharp reads the
/// file and refuses a chunk that runs past the end of the bytes, so every byte the decoder reads
/// is the client's.
/// <para>
/// It walks the chunks the way that decoder does: a simple file's first chunk; after a VP8X header
/// (whose payload the decoder takes as exactly 10 bytes), every chunk to the end. There any chunk
/// must fit, not only VP8 and VP8L: the decoder allocates a metadata chunk's declared size before
/// reading it, and skips nothing for a size over 2^31, after which it would read chunks where this
/// walk does not. A VP8 chunk's size counts as it stands, the others' rounded up to even (RIFF's
/// padding byte), as the decoder reads them.
/// </para>
/// </summary>
internal static class WebpChunkCheck
{
    private const int RiffHeaderLength = 12;
    private const int ChunkHeaderLength = 8;
    private const int Vp8XPayloadLength = 10;

    /// <summary>Why the decoder would read past the end of this WebP, or null when it would not (or this is no WebP).</summary>
    public static string? FindProblem(ReadOnlySpan<byte> webp)
    {
        if (webp.Length < RiffHeaderLength + ChunkHeaderLength || !webp[..4].SequenceEqual("RIFF"u8) || !webp[8..12].SequenceEqual("WEBP"u8))
        {
            return null;
        }

        var first = webp.Slice(RiffHeaderLength, 4);
        if (!first.SequenceEqual("VP8X"u8))
        {
            // Any other first chunk than VP8 or VP8L the decoder refuses before reading it.
            return first.SequenceEqual("VP8 "u8) || first.SequenceEqual("VP8L"u8)
                ? ChunkProblem(webp, RiffHeaderLength, out _)
                : null;
        }

        // Fewer than 8 bytes left: the decoder fails reading the chunk header, without reading on.
        long offset = RiffHeaderLength + ChunkHeaderLength + Vp8XPayloadLength;
        while (offset + ChunkHeaderLength <= webp.Length)
        {
            if (ChunkProblem(webp, (int)offset, out var end) is { } problem)
            {
                return problem;
            }

            offset = end;
        }

        return null;
    }

    /// <summary>The problem if the chunk at <paramref name="offset"/> runs past the end of the bytes; where it ends.</summary>
    private static string? ChunkProblem(ReadOnlySpan<byte> webp, int offset, out long end)
    {
        var type = webp.Slice(offset, 4);
        var declared = BinaryPrimitives.ReadUInt32LittleEndian(webp[(offset + 4)..]);
        long read = type.SequenceEqual("VP8 "u8) ? declared : declared + (declared & 1);
        var present = webp.Length - (offset + ChunkHeaderLength);
        end = offset + ChunkHeaderLength + read;
        return read > present
            ? $"it is truncated: its {Name(type)} chunk at byte {offset} declares {declared} bytes{(read > declared ? " (and a padding byte)" : "")} but only {present} follow"
            : null;
    }

    private static string Name(ReadOnlySpan<byte> type)
    {
        foreach (var b in type)
        {
            if (b is < 0x20 or > 0x7E)
            {
                return "unnamed";
            }
        }

        return $"'{System.Text.Encoding.ASCII.GetString(type).TrimEnd()}'";
    }
}
