using System.Buffers.Binary;
using System.IO.Compression;

namespace CaptionService.Inference.Preprocessing;

/// <summary>
/// ImageSharp 2.1.13 decodes an interlaced (Adam7) PNG in a loop that never ends when the
/// compressed pixel data runs out before the seventh pass is complete: a truncated or corrupted
/// IDAT stream pins a CPU core for ever and the request never answers. This check runs before
/// that decoder does and refuses such a PNG: the chunks must be well formed, the IDAT chunks one
/// consecutive run (as the PNG specification requires) after one IHDR, and that run must inflate
/// to at least the bytes the seven passes read. Non-interlaced PNGs are not affected (their
/// decoder stops), nor are their bytes read twice.
/// </summary>
internal static class InterlacedPngCheck
{
    private const int SignatureLength = 8;

    // The Adam7 passes as ImageSharp reads them: first row, row step, and the column count of a pass.
    private static readonly int[] FirstRow = [0, 0, 4, 0, 2, 0, 1];
    private static readonly int[] RowIncrement = [8, 8, 8, 4, 4, 2, 2];

    /// <summary>Why the decoder would not finish this PNG, or null when it would (or does not decode it interlaced).</summary>
    public static string? FindProblem(ReadOnlySpan<byte> png)
    {
        // ImageSharp's chunk reader resynchronises after a bad length and takes the last IHDR it
        // meets, so what Identify reports is not enough: any IHDR the reader could find with
        // interlace method 1 puts the file through the whole check.
        if (!MayHoldAnInterlacedHeader(png))
        {
            return null;
        }

        var idat = new List<(int Offset, int Length)>();
        var headers = new List<int>();
        var runEnded = false;
        var offset = SignatureLength;
        while (true)
        {
            if (offset + 8 > png.Length)
            {
                return $"its chunks end at byte {offset} without an IEND chunk";
            }

            var length = BinaryPrimitives.ReadInt32BigEndian(png[offset..]);
            var type = png.Slice(offset + 4, 4);
            if (length < 0 || offset + 12L + length > png.Length)
            {
                return $"the chunk at byte {offset} claims {(uint)length} bytes, more than the file holds";
            }

            if (type.SequenceEqual("IHDR"u8))
            {
                headers.Add(offset);
            }
            else if (type.SequenceEqual("IDAT"u8))
            {
                if (runEnded)
                {
                    return $"its IDAT chunks are not consecutive (another one at byte {offset})";
                }

                idat.Add((offset + 8, length));
            }
            else if (idat.Count > 0)
            {
                runEnded = true;
            }

            if (type.SequenceEqual("IEND"u8))
            {
                break;
            }

            offset += 12 + length;
        }

        if (headers is not [SignatureLength])
        {
            return $"it has {headers.Count} IHDR chunks where one, first, is allowed";
        }

        var header = png.Slice(SignatureLength + 8, BinaryPrimitives.ReadInt32BigEndian(png[SignatureLength..]));
        if (header.Length != 13)
        {
            return $"its IHDR chunk is {header.Length} bytes long, not 13";
        }

        if (header[12] != 1)
        {
            return null;
        }

        if (idat.Count == 0)
        {
            return "it has no IDAT chunk";
        }

        var width = BinaryPrimitives.ReadInt32BigEndian(header);
        var height = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        var needed = BytesReadByPasses(width, height, bitDepth: header[8], colorType: header[9]);
        var inflated = InflatedLength(png, idat, needed);
        return inflated < needed
            ? $"its compressed pixel data ends after {inflated} of the {needed} bytes its header calls for"
            : null;
    }

    /// <summary>Whether the bytes "IHDR" occur anywhere with a 1 where that chunk's interlace method would be.</summary>
    private static bool MayHoldAnInterlacedHeader(ReadOnlySpan<byte> png)
    {
        for (var start = 0; start < png.Length;)
        {
            var found = png[start..].IndexOf("IHDR"u8);
            if (found < 0)
            {
                return false;
            }

            var interlace = start + found + 4 + 12;
            if (interlace < png.Length && png[interlace] == 1)
            {
                return true;
            }

            start += found + 1;
        }

        return false;
    }

    /// <summary>Filter byte plus packed pixels for every row of every non-empty pass.</summary>
    private static long BytesReadByPasses(long width, long height, int bitDepth, int colorType)
    {
        var channels = colorType switch
        {
            0 => 1, // grayscale
            2 => 3, // RGB
            3 => 1, // palette
            4 => 2, // grayscale with alpha
            _ => 4, // RGBA, and what ImageSharp assumes for anything else
        };

        long total = 0;
        for (var pass = 0; pass < 7; pass++)
        {
            long columns = pass switch
            {
                0 => (width + 7) / 8,
                1 => (width + 3) / 8,
                2 => (width + 3) / 4,
                3 => (width + 1) / 4,
                4 => (width + 1) / 2,
                5 => width / 2,
                _ => width,
            };
            if (columns == 0 || FirstRow[pass] >= height)
            {
                continue;
            }

            var rows = ((height - FirstRow[pass] - 1) / RowIncrement[pass]) + 1;
            var rowBytes = ((columns * bitDepth * channels) + 7) / 8;
            total += rows * (rowBytes + 1);
        }

        return total;
    }

    /// <summary>How many bytes the zlib stream in the IDAT run inflates to, counting no further than <paramref name="needed"/>.</summary>
    private static long InflatedLength(ReadOnlySpan<byte> png, List<(int Offset, int Length)> idat, long needed)
    {
        var compressed = new byte[idat.Sum(chunk => (long)chunk.Length)];
        var position = 0;
        foreach (var (chunkOffset, length) in idat)
        {
            png.Slice(chunkOffset, length).CopyTo(compressed.AsSpan(position));
            position += length;
        }

        // The zlib header: compression method 8, a window of at most 32 KiB, perhaps a preset dictionary id.
        if (compressed.Length < 2 || (compressed[0] & 0x0F) != 8 || (compressed[0] >> 4) > 7)
        {
            return 0;
        }

        var headerLength = (compressed[1] & 0x20) != 0 ? 6 : 2;
        if (compressed.Length < headerLength)
        {
            return 0;
        }

        using var deflate = new DeflateStream(new MemoryStream(compressed, headerLength, compressed.Length - headerLength), CompressionMode.Decompress);
        var buffer = new byte[16 * 1024];
        long total = 0;
        try
        {
            while (total < needed)
            {
                var read = deflate.Read(buffer, 0, buffer.Length);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }
        }
        catch (InvalidDataException)
        {
            // Corrupt deflate data: what came before it is all the decoder gets.
        }

        return total;
    }
}
