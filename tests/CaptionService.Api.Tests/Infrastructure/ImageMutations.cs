using System.Buffers.Binary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>One mutated image: which case of which seed it is, what it started from and what was done to it.</summary>
internal sealed record MutatedImage(int Seed, int Index, string Format, string Scene, IReadOnlyList<string> Mutations, byte[] Bytes)
{
    /// <summary>Enough to reproduce the bytes: <c>ImageMutations.Create(Seed, Index)</c>.</summary>
    public override string ToString() =>
        $"seed {Seed} case {Index}: {Format} of {Scene}, {Bytes.Length} bytes after {string.Join("; ", Mutations)}";
}

/// <summary>
/// Seeded mutations of valid ShapeWorld scenes encoded by ImageSharp as PNG, JPEG, GIF, BMP and
/// WebP: bit flips, extreme integers (0, 1, 2^15, 2^16−1, 2^30, 2^31−1, −1) written into the
/// format's header fields (dimensions, offsets, lengths), truncations, runs of one byte and
/// repeated slices, one to three per case. Case <c>i</c> of seed <c>s</c> is the same bytes on
/// every machine and every run, so a failure names all that is needed to reproduce it.
/// </summary>
internal static class ImageMutations
{
    public static readonly string[] Formats = ["png", "jpeg", "gif", "bmp", "webp"];

    /// <summary>Scenes of different sets (100×100 RGB PNGs), so that headers and entropy-coded data differ.</summary>
    private static readonly string[] Scenes =
    [
        "existential-oneshape/world-0.png",
        "relational-spatial/world-3.png",
        "quantification-count/world-7.png",
        "logical-full/world-11.png",
    ];

    private static readonly long[] ExtremeIntegers = [0, 1, 1L << 15, (1L << 16) - 1, 1L << 30, int.MaxValue, -1];

    private static readonly Lazy<byte[][]> Encoded = new(EncodeAll);

    private static readonly uint[] CrcTable = BuildCrcTable();

    private delegate string Mutation(Random random, string format, ref byte[] bytes);

    private static readonly Mutation[] Mutations = [FlipBits, WriteExtremeInteger, Truncate, WriteByteRun, RepeatSlice];

    /// <summary>Case <paramref name="index"/> of <paramref name="seed"/>: format and scene rotate with the index, the mutations come from both.</summary>
    public static MutatedImage Create(int seed, int index)
    {
        var format = Formats[index % Formats.Length];
        var scene = (index / Formats.Length) % Scenes.Length;
        var bytes = (byte[])Encoded.Value[(scene * Formats.Length) + (index % Formats.Length)].Clone();

        // Random(int) is the seeded legacy generator: the same sequence on every platform and runtime.
        var random = new Random(unchecked((seed * 1_000_003) + index));
        var applied = new List<string>();
        var count = 1 + random.Next(3);
        for (var i = 0; i < count && bytes.Length > 0; i++)
        {
            applied.Add(Mutations[random.Next(Mutations.Length)](random, format, ref bytes));
        }

        // A PNG decoder rejects a chunk whose CRC is wrong before it reads the chunk, so half of the
        // PNG cases get their CRCs recomputed to take the mutation past that check.
        if (format == "png" && random.Next(2) == 0 && FixPngCrcs(bytes))
        {
            applied.Add("PNG CRCs recomputed");
        }

        return new MutatedImage(seed, index, format, Scenes[scene], applied, bytes);
    }

    /// <summary>How many scenes the cases rotate over.</summary>
    public static int SceneCount => Scenes.Length;

    /// <summary>The unmutated encoding of a scene, for checking the server takes it.</summary>
    public static byte[] Original(string format, int scene = 0) =>
        Encoded.Value[(scene * Formats.Length) + Array.IndexOf(Formats, format)];

    private static byte[][] EncodeAll()
    {
        var encoded = new byte[Scenes.Length * Formats.Length][];
        for (var scene = 0; scene < Scenes.Length; scene++)
        {
            using var image = Image.Load<Rgb24>(Path.Combine(RepositoryPaths.ShapeWorldData, Scenes[scene]));
            for (var f = 0; f < Formats.Length; f++)
            {
                using var stream = new MemoryStream();
                image.Save(stream, Encoder(Formats[f], variant: scene % 2 == 1));
                encoded[(scene * Formats.Length) + f] = stream.ToArray();
            }
        }

        return encoded;
    }

    /// <summary>Two encodings of each format, so that more of each decoder is reached.</summary>
    private static IImageEncoder Encoder(string format, bool variant) => format switch
    {
        "png" => new PngEncoder { InterlaceMethod = variant ? PngInterlaceMode.Adam7 : PngInterlaceMode.None },
        "jpeg" => new JpegEncoder { Quality = variant ? 95 : 60, ColorType = variant ? JpegColorType.YCbCrRatio444 : JpegColorType.YCbCrRatio420 },
        "gif" => new GifEncoder(),
        "bmp" => new BmpEncoder { BitsPerPixel = variant ? BmpBitsPerPixel.Pixel8 : BmpBitsPerPixel.Pixel24 },
        "webp" => new WebpEncoder { FileFormat = variant ? WebpFileFormatType.Lossless : WebpFileFormatType.Lossy },
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Not a fuzzed format."),
    };

    /// <summary>Half the time in the first 128 bytes, where the headers are.</summary>
    private static int Position(Random random, int length) =>
        random.Next(2) == 0 ? random.Next(Math.Min(length, 128)) : random.Next(length);

    private static string FlipBits(Random random, string format, ref byte[] bytes)
    {
        var flips = 1 + random.Next(8);
        var positions = new List<string>();
        for (var i = 0; i < flips; i++)
        {
            var position = Position(random, bytes.Length);
            var bit = random.Next(8);
            bytes[position] ^= (byte)(1 << bit);
            positions.Add($"{position}.{bit}");
        }

        return $"bit flips at {string.Join(',', positions)}";
    }

    private static string WriteExtremeInteger(Random random, string format, ref byte[] bytes)
    {
        var value = ExtremeIntegers[random.Next(ExtremeIntegers.Length)];
        var fields = HeaderFields(format, bytes);
        HeaderField field;
        if (fields.Count > 0 && random.Next(5) != 0)
        {
            field = fields[random.Next(fields.Count)];
        }
        else
        {
            // Anywhere in the first 64 bytes, as a 16- or 32-bit integer of either byte order.
            var offset = random.Next(Math.Min(bytes.Length, 64));
            field = new HeaderField($"integer@{offset}", offset, random.Next(2) == 0 ? 2 : 4, BigEndian: random.Next(2) == 0);
        }

        if (field.Offset + field.Size > bytes.Length)
        {
            return $"{field.Name} = {value} (past the end, skipped)";
        }

        var target = bytes.AsSpan(field.Offset, field.Size);
        switch (field.Size, field.BigEndian)
        {
            case (1, _):
                target[0] = (byte)value;
                break;
            case (2, true):
                BinaryPrimitives.WriteUInt16BigEndian(target, (ushort)value);
                break;
            case (2, false):
                BinaryPrimitives.WriteUInt16LittleEndian(target, (ushort)value);
                break;
            case (3, _):
                target[0] = (byte)value;
                target[1] = (byte)(value >> 8);
                target[2] = (byte)(value >> 16);
                break;
            case (_, true):
                BinaryPrimitives.WriteUInt32BigEndian(target, (uint)value);
                break;
            default:
                BinaryPrimitives.WriteUInt32LittleEndian(target, (uint)value);
                break;
        }

        return $"{field.Name} = {value}";
    }

    private static string Truncate(Random random, string format, ref byte[] bytes)
    {
        var length = Math.Max(1, Position(random, bytes.Length));
        bytes = bytes[..length];
        return $"truncated to {length}";
    }

    private static string WriteByteRun(Random random, string format, ref byte[] bytes)
    {
        var start = Position(random, bytes.Length);
        var length = Math.Min(bytes.Length - start, 1 + random.Next(256));
        var value = random.Next(3) switch
        {
            0 => (byte)0x00,
            1 => (byte)0xFF,
            _ => (byte)random.Next(256),
        };
        bytes.AsSpan(start, length).Fill(value);
        return $"{length} bytes of 0x{value:X2} at {start}";
    }

    private static string RepeatSlice(Random random, string format, ref byte[] bytes)
    {
        var start = Position(random, bytes.Length);
        var length = Math.Min(bytes.Length - start, 1 + random.Next(64));
        var times = 2 + random.Next(15);
        var slice = bytes.AsSpan(start, length);
        var repeated = new byte[bytes.Length + (length * (times - 1))];
        bytes.AsSpan(0, start).CopyTo(repeated);
        for (var i = 0; i < times; i++)
        {
            slice.CopyTo(repeated.AsSpan(start + (i * length)));
        }

        bytes.AsSpan(start + length).CopyTo(repeated.AsSpan(start + (times * length)));
        bytes = repeated;
        return $"{length} bytes at {start} repeated {times} times";
    }

    private sealed record HeaderField(string Name, int Offset, int Size, bool BigEndian);

    /// <summary>Dimensions, offsets and lengths of the format's headers, found by walking the encoding.</summary>
    private static List<HeaderField> HeaderFields(string format, byte[] bytes)
    {
        var fields = new List<HeaderField>();
        switch (format)
        {
            case "png":
                fields.Add(new("png.IHDR.width", 16, 4, true));
                fields.Add(new("png.IHDR.height", 20, 4, true));
                fields.Add(new("png.IHDR.bitDepth", 24, 1, true));
                fields.Add(new("png.IHDR.colorType", 25, 1, true));
                fields.Add(new("png.IHDR.interlace", 28, 1, true));
                for (var offset = 8; offset + 8 <= bytes.Length;)
                {
                    var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(offset));
                    fields.Add(new($"png.{System.Text.Encoding.ASCII.GetString(bytes, offset + 4, 4)}.length@{offset}", offset, 4, true));
                    if (length < 0 || offset + 12L + length > bytes.Length)
                    {
                        break;
                    }

                    offset += 12 + length;
                }

                break;

            case "jpeg":
                for (var offset = 2; offset + 4 <= bytes.Length && bytes[offset] == 0xFF;)
                {
                    var marker = bytes[offset + 1];
                    fields.Add(new($"jpeg.FF{marker:X2}.length@{offset + 2}", offset + 2, 2, true));
                    if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                    {
                        fields.Add(new($"jpeg.SOF{marker - 0xC0}.precision", offset + 4, 1, true));
                        fields.Add(new($"jpeg.SOF{marker - 0xC0}.height", offset + 5, 2, true));
                        fields.Add(new($"jpeg.SOF{marker - 0xC0}.width", offset + 7, 2, true));
                        fields.Add(new($"jpeg.SOF{marker - 0xC0}.components", offset + 9, 1, true));
                    }

                    if (marker == 0xDA)
                    {
                        fields.Add(new("jpeg.SOS.components", offset + 4, 1, true));
                        break;
                    }

                    offset += 2 + BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(offset + 2));
                }

                break;

            case "gif":
                fields.Add(new("gif.screen.width", 6, 2, false));
                fields.Add(new("gif.screen.height", 8, 2, false));
                fields.Add(new("gif.screen.flags", 10, 1, false));
                if (FindGifImageDescriptor(bytes) is { } descriptor)
                {
                    fields.Add(new("gif.image.left", descriptor + 1, 2, false));
                    fields.Add(new("gif.image.top", descriptor + 3, 2, false));
                    fields.Add(new("gif.image.width", descriptor + 5, 2, false));
                    fields.Add(new("gif.image.height", descriptor + 7, 2, false));
                    fields.Add(new("gif.image.flags", descriptor + 9, 1, false));
                    fields.Add(new("gif.image.lzwMinimumCodeSize", descriptor + 10, 1, false));
                }

                break;

            case "bmp":
                fields.Add(new("bmp.fileSize", 2, 4, false));
                fields.Add(new("bmp.pixelOffset", 10, 4, false));
                fields.Add(new("bmp.headerSize", 14, 4, false));
                fields.Add(new("bmp.width", 18, 4, false));
                fields.Add(new("bmp.height", 22, 4, false));
                fields.Add(new("bmp.planes", 26, 2, false));
                fields.Add(new("bmp.bitsPerPixel", 28, 2, false));
                fields.Add(new("bmp.compression", 30, 4, false));
                fields.Add(new("bmp.imageSize", 34, 4, false));
                fields.Add(new("bmp.colorsUsed", 46, 4, false));
                break;

            case "webp":
                fields.Add(new("webp.riffSize", 4, 4, false));
                fields.Add(new("webp.chunkSize", 16, 4, false));
                if (bytes.Length > 16 && bytes.AsSpan(12, 4).SequenceEqual("VP8L"u8))
                {
                    // 14 bits of width − 1, then 14 of height − 1, little-endian after the signature byte.
                    fields.Add(new("webp.VP8L.size", 21, 4, false));
                }
                else if (bytes.Length > 16 && bytes.AsSpan(12, 4).SequenceEqual("VP8X"u8))
                {
                    fields.Add(new("webp.VP8X.width", 24, 3, false));
                    fields.Add(new("webp.VP8X.height", 27, 3, false));
                }
                else
                {
                    fields.Add(new("webp.VP8.frameTag", 20, 3, false));
                    fields.Add(new("webp.VP8.width", 26, 2, false));
                    fields.Add(new("webp.VP8.height", 28, 2, false));
                }

                break;
        }

        return fields;
    }

    private static int? FindGifImageDescriptor(byte[] bytes)
    {
        if (bytes.Length < 13)
        {
            return null;
        }

        var flags = bytes[10];
        var offset = 13 + ((flags & 0x80) != 0 ? 3 * (1 << ((flags & 7) + 1)) : 0);
        while (offset < bytes.Length)
        {
            switch (bytes[offset])
            {
                case 0x2C:
                    return offset + 11 <= bytes.Length ? offset : null;
                case 0x21:
                    // Extension: label, then sub-blocks until a zero-length one.
                    offset += 2;
                    while (offset < bytes.Length && bytes[offset] != 0)
                    {
                        offset += bytes[offset] + 1;
                    }

                    offset++;
                    break;
                default:
                    return null;
            }
        }

        return null;
    }

    /// <summary>Recomputes every chunk's CRC that the (possibly mutated) lengths still let it find; false when none.</summary>
    private static bool FixPngCrcs(byte[] bytes)
    {
        var fixedAny = false;
        for (var offset = 8; offset + 12 <= bytes.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(offset));
            if (length < 0 || offset + 12L + length > bytes.Length)
            {
                break;
            }

            var crc = Crc32(bytes.AsSpan(offset + 4, 4 + length));
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(offset + 8 + length), crc);
            fixedAny = true;
            offset += 12 + length;
        }

        return fixedAny;
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc ^ 0xFFFFFFFFu;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
