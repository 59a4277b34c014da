using System.Buffers.Binary;

namespace CaptionService.Inference.Preprocessing;

/// <summary>
/// ImageSharp 2.1.13 reads a palette BMP's colour table into a new array as large as the gap
/// between the headers and the pixel data offset the file header states, before it checks that
/// offset against the file's length: a 100-byte BMP claiming its pixels start at byte 2^30
/// allocates a gigabyte (and at 2^31 − 1 throws <see cref="OutOfMemoryException"/>). This check runs
/// before ImageSharp reads anything and refuses an offset outside the file, which the decoder
/// would refuse afterwards anyway.
/// </summary>
internal static class BmpHeaderCheck
{
    /// <summary>The 'BM' file header: signature, file size, two reserved words, then the pixel data offset.</summary>
    private const int PixelOffsetPosition = 10;

    /// <summary>Why the decoder must not read this BMP, or null when it may.</summary>
    public static string? FindProblem(ReadOnlySpan<byte> bmp)
    {
        // Other signatures (OS/2 arrays, icons, pointers) have a fixed-size colour table.
        if (bmp.Length < PixelOffsetPosition + 4 || bmp[0] != 'B' || bmp[1] != 'M')
        {
            return null;
        }

        var pixelOffset = BinaryPrimitives.ReadInt32LittleEndian(bmp[PixelOffsetPosition..]);
        return pixelOffset > bmp.Length
            ? $"its header puts the pixel data at byte {pixelOffset}, past the end of the {bmp.Length}-byte file"
            : null;
    }
}
