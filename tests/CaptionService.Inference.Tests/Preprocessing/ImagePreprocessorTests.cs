using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Preprocessing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace CaptionService.Inference.Tests.Preprocessing;

public sealed class ImagePreprocessorTests
{
    private static ImagePreprocessor Create(int height, int width, PreprocessingOptions? limits = null, bool resize = true) =>
        new(limits ?? new PreprocessingOptions(), ImageTransform.FromConfig(
            new PreprocessorConfig(resize, Resample: 2, DoRescale: true, RescaleFactor: 1 / 255.0, DoNormalize: true,
                Size: new ImageSize(height, width), ImageMean: [0.5, 0.25, 0.0], ImageStd: [0.5, 0.5, 0.25]),
            "preprocessor_config.json", graphHeight: null, graphWidth: null));

    private static byte[] Png(Image<Rgb24> image)
    {
        using var stream = new MemoryStream();
        image.Save(stream, new PngEncoder());
        return stream.ToArray();
    }

    [Fact]
    public void KnownPixelsBecomeTheExactNormalisedChwTensor()
    {
        using var image = new Image<Rgb24>(8, 8, new Rgb24(0, 0, 0));
        image[0, 0] = new Rgb24(255, 0, 128);
        image[7, 0] = new Rgb24(51, 102, 255);
        image[0, 7] = new Rgb24(10, 20, 30);

        using var tensor = Create(8, 8).Preprocess(Png(image));

        var span = tensor.Span;
        Assert.Equal(3 * 64, span.Length);
        // (v / 255 - mean) / std per channel; R: mean .5 std .5, G: mean .25 std .5, B: mean 0 std .25.
        Assert.Equal(1.0f, span[0]);                                       // R(0,0) = 255
        Assert.Equal(-0.5f, span[64]);                                     // G(0,0) = 0
        Assert.Equal((float)(128 / 255.0) / 0.25f, span[128], 6);          // B(0,0) = 128
        Assert.Equal(((float)(51 / 255.0) - 0.5f) / 0.5f, span[7], 6);     // R(x=7,y=0)
        Assert.Equal(((float)(102 / 255.0) - 0.25f) / 0.5f, span[64 + 7], 6);
        Assert.Equal(4.0f, span[128 + 7]);                                 // B = 255 → 1 / .25
        Assert.Equal(((float)(10 / 255.0) - 0.5f) / 0.5f, span[56], 6);    // R(x=0,y=7) = row 7 * 8
        Assert.Equal(-1.0f, span[1]);                                      // black R
        Assert.Equal(0.0f, span[128 + 1]);                                 // black B with mean 0
    }

    [Fact]
    public void ExifOrientationIsAppliedBeforeTheTensorIsWritten()
    {
        // 16 wide × 8 high: left half red, right half blue. Orientation 6 means "rotate 90° clockwise
        // to display", so the displayed image is 8 wide × 16 high with red on top.
        using var image = new Image<Rgb24>(16, 8, new Rgb24(0, 0, 255));
        for (var y = 0; y < 8; y++)
        {
            for (var x = 0; x < 8; x++)
            {
                image[x, y] = new Rgb24(255, 0, 0);
            }
        }

        image.Metadata.ExifProfile = new ExifProfile();
        image.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);

        using var tensor = Create(height: 16, width: 8, resize: false).Preprocess(Png(image));

        var span = tensor.Span;
        var plane = 16 * 8;
        Assert.Equal(1.0f, span[0]);                  // top-left is red
        Assert.Equal(1.0f, span[(7 * 8) + 7]);        // still red at row 7
        Assert.Equal(-1.0f, span[(8 * 8) + 0]);       // row 8 starts the blue half: R = 0
        Assert.Equal(4.0f, span[(2 * plane) + (15 * 8)]); // bottom-left B = 255
    }

    [Fact]
    public void LargerImagesAreResizedToTheModelInput()
    {
        using var image = new Image<Rgb24>(40, 20, new Rgb24(255, 255, 255));

        using var tensor = Create(8, 8).Preprocess(Png(image));

        Assert.All(tensor.Span[..64].ToArray(), v => Assert.Equal(1.0f, v, 5));
    }

    public static TheoryData<string> AcceptedFormats() => ["jpeg", "png", "webp", "gif", "bmp"];

    [Theory]
    [MemberData(nameof(AcceptedFormats))]
    public void EachAcceptedFormatDecodes(string format)
    {
        IImageEncoder encoder = format switch
        {
            "jpeg" => new JpegEncoder { Quality = 100 },
            "png" => new PngEncoder(),
            "webp" => new WebpEncoder { FileFormat = WebpFileFormatType.Lossless },
            "gif" => new GifEncoder(),
            _ => new BmpEncoder(),
        };
        using var image = new Image<Rgb24>(8, 8, new Rgb24(255, 255, 255));
        using var stream = new MemoryStream();
        image.Save(stream, encoder);

        using var tensor = Create(8, 8).Preprocess(stream.ToArray());

        Assert.Equal(1.0f, tensor.Span[0], 2);
    }

    [Fact]
    public void OnlyTheFirstFrameOfAnAnimatedGifIsUsed()
    {
        using var image = new Image<Rgb24>(8, 8, new Rgb24(255, 0, 0));
        using var blue = new Image<Rgb24>(8, 8, new Rgb24(0, 0, 255));
        image.Frames.AddFrame(blue.Frames.RootFrame);
        using var stream = new MemoryStream();
        image.Save(stream, new GifEncoder());

        using var tensor = Create(8, 8).Preprocess(stream.ToArray());

        Assert.Equal(1.0f, tensor.Span[0]);   // red plane of the first (red) frame
        Assert.Equal(0.0f, tensor.Span[128]); // its blue plane: 0 with mean 0
    }

    [Fact]
    public void AnImageOverTheByteLimitIsRejectedAsTooLarge()
    {
        using var image = new Image<Rgb24>(8, 8);
        var bytes = Png(image);

        var ex = Assert.Throws<InferenceRejectedException>(() =>
            Create(8, 8, new PreprocessingOptions { MaxImageBytes = bytes.Length - 1 }).Preprocess(bytes).Dispose());

        Assert.Equal(RejectionReason.ImageTooLarge, ex.Reason);
        Assert.Contains($"{bytes.Length - 1} bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TooManyPixelsIsRejectedFromTheHeaderWithoutDecoding()
    {
        using var image = new Image<Rgb24>(100, 50);

        var ex = Assert.Throws<InferenceRejectedException>(() =>
            Create(8, 8, new PreprocessingOptions { MaxPixels = 4999 }).Preprocess(Png(image)).Dispose());

        Assert.Equal(RejectionReason.UnprocessableImage, ex.Reason);
        Assert.Contains("4999", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASideUnderTheMinimumIsUnprocessable()
    {
        using var image = new Image<Rgb24>(7, 100);

        var ex = Assert.Throws<InferenceRejectedException>(() => Create(8, 8).Preprocess(Png(image)).Dispose());

        Assert.Equal(RejectionReason.UnprocessableImage, ex.Reason);
        Assert.Contains("at least 8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BytesThatAreNoSupportedFormatAreUnsupported()
    {
        var ex = Assert.Throws<InferenceRejectedException>(() =>
            Create(8, 8).Preprocess("this is plain text, not an image"u8.ToArray()).Dispose());

        Assert.Equal(RejectionReason.UnsupportedImageFormat, ex.Reason);
    }

    [Fact]
    public void ATiffImageIsAnUnsupportedFormat()
    {
        using var image = new Image<Rgb24>(8, 8);
        using var stream = new MemoryStream();
        image.Save(stream, new TiffEncoder());

        var ex = Assert.Throws<InferenceRejectedException>(() => Create(8, 8).Preprocess(stream.ToArray()).Dispose());

        Assert.Equal(RejectionReason.UnsupportedImageFormat, ex.Reason);
    }

    [Fact]
    public void ATruncatedPngIsUnprocessable()
    {
        using var image = new Image<Rgb24>(64, 64);
        for (var x = 0; x < 64; x++)
        {
            image[x, x] = new Rgb24((byte)x, 200, 3);
        }

        var bytes = Png(image);

        var ex = Assert.Throws<InferenceRejectedException>(() => Create(8, 8).Preprocess(bytes.AsMemory(0, bytes.Length / 2)).Dispose());

        Assert.Equal(RejectionReason.UnprocessableImage, ex.Reason);
    }

    public static TheoryData<PngColorType, PngBitDepth> PngLayouts() => new()
    {
        { PngColorType.Grayscale, PngBitDepth.Bit1 },
        { PngColorType.Grayscale, PngBitDepth.Bit2 },
        { PngColorType.Grayscale, PngBitDepth.Bit4 },
        { PngColorType.Grayscale, PngBitDepth.Bit8 },
        { PngColorType.Grayscale, PngBitDepth.Bit16 },
        { PngColorType.GrayscaleWithAlpha, PngBitDepth.Bit8 },
        { PngColorType.GrayscaleWithAlpha, PngBitDepth.Bit16 },
        { PngColorType.Palette, PngBitDepth.Bit1 },
        { PngColorType.Palette, PngBitDepth.Bit4 },
        { PngColorType.Palette, PngBitDepth.Bit8 },
        { PngColorType.Rgb, PngBitDepth.Bit8 },
        { PngColorType.Rgb, PngBitDepth.Bit16 },
        { PngColorType.RgbWithAlpha, PngBitDepth.Bit8 },
        { PngColorType.RgbWithAlpha, PngBitDepth.Bit16 },
    };

    /// <summary>The check in front of the Adam7 decoder must not refuse a complete interlaced PNG of any layout.</summary>
    [Theory]
    [MemberData(nameof(PngLayouts))]
    public void AnInterlacedPngGivesTheSameTensorAsTheSameImageNotInterlaced(PngColorType colorType, PngBitDepth bitDepth)
    {
        // 13 × 11: odd sides, so that the last columns and rows of several passes are partial.
        using var image = new Image<Rgb24>(13, 11);
        for (var y = 0; y < 11; y++)
        {
            for (var x = 0; x < 13; x++)
            {
                image[x, y] = (x + y) % 3 == 0 ? new Rgb24(255, 255, 255) : new Rgb24(0, 0, 0);
            }
        }

        byte[] Encode(PngInterlaceMode interlace)
        {
            using var stream = new MemoryStream();
            image.Save(stream, new PngEncoder { ColorType = colorType, BitDepth = bitDepth, InterlaceMethod = interlace });
            return stream.ToArray();
        }

        var preprocessor = Create(height: 11, width: 13);
        using var interlaced = preprocessor.Preprocess(Encode(PngInterlaceMode.Adam7));
        using var progressive = preprocessor.Preprocess(Encode(PngInterlaceMode.None));

        Assert.Equal(progressive.Span.ToArray(), interlaced.Span.ToArray());
    }

    /// <summary>ImageSharp 2.1.13's Adam7 decoder loops for ever on this; it must be refused before.</summary>
    [Fact]
    public async Task AnInterlacedPngWhosePixelDataEndsEarlyIsUnprocessableInsteadOfAHang()
    {
        using var image = new Image<Rgb24>(64, 64);
        for (var x = 0; x < 64; x++)
        {
            image[x, (x * 7) % 64] = new Rgb24((byte)(x * 4), 200, 3);
        }

        using var stream = new MemoryStream();
        image.Save(stream, new PngEncoder { InterlaceMethod = PngInterlaceMode.Adam7 });
        var bytes = PngWithIdatCut(stream.ToArray(), keep: 0.5);

        var preprocess = Task.Run(() => Create(8, 8).Preprocess(bytes).Dispose());
        var ex = await Assert.ThrowsAsync<InferenceRejectedException>(() => preprocess.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(RejectionReason.UnprocessableImage, ex.Reason);
        Assert.Contains("interlaced", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ends after", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The decoder hangs in the first, interlaced IDAT run; Identify reports the last IHDR it read,
    /// which says "not interlaced", so the check must read the chunks itself.
    /// </summary>
    [Fact]
    public async Task AnInterlacedPngThatEndsEarlyIsRefusedEvenWhenALaterHeaderSaysNotInterlaced()
    {
        using var image = new Image<Rgb24>(64, 64);
        for (var x = 0; x < 64; x++)
        {
            image[x, (x * 5) % 64] = new Rgb24(30, (byte)(x * 4), 90);
        }

        using var stream = new MemoryStream();
        image.Save(stream, new PngEncoder { InterlaceMethod = PngInterlaceMode.Adam7 });
        var cut = PngWithIdatCut(stream.ToArray(), keep: 0.5);

        // A second IHDR, the first one's data with interlace method 0, just before IEND.
        var header = cut.AsSpan(8, 25).ToArray();
        header[8 + 12] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(21), Crc32(header.AsSpan(4, 17)));
        var bytes = cut[..^12].Concat(header).Concat(cut[^12..]).ToArray();

        var preprocess = Task.Run(() => Create(8, 8).Preprocess(bytes).Dispose());
        var ex = await Assert.ThrowsAsync<InferenceRejectedException>(() => preprocess.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(RejectionReason.UnprocessableImage, ex.Reason);
        Assert.Contains("interlaced", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>ImageSharp 2.1.13 would allocate the gap up to the stated offset as a colour table: a gigabyte here.</summary>
    [Fact]
    public void ABmpWhosePixelDataOffsetIsPastItsEndIsRefusedWithoutAllocatingUpToIt()
    {
        using var image = new Image<Rgb24>(16, 16, new Rgb24(10, 20, 30));
        using var stream = new MemoryStream();
        image.Save(stream, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel8 });
        var bytes = stream.ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 1 << 30);
        var preprocessor = Create(8, 8);

        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<InferenceRejectedException>(() => preprocessor.Preprocess(bytes).Dispose());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        Assert.Equal(RejectionReason.UnprocessableImage, ex.Reason);
        Assert.Contains("past the end", ex.Message, StringComparison.Ordinal);
        Assert.True(allocated < 16 * 1024 * 1024, $"Refusing the BMP allocated {allocated} bytes.");
    }

    /// <summary>The PNG with its single IDAT chunk cut to a fraction of its data, the chunk's length and CRC rewritten to match.</summary>
    private static byte[] PngWithIdatCut(byte[] png, double keep)
    {
        var offset = 8;
        while (!png.AsSpan(offset + 4, 4).SequenceEqual("IDAT"u8))
        {
            offset += 12 + System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
        }

        var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
        var kept = (int)(length * keep);
        var cut = png[..(offset + 8 + kept)].Concat(new byte[4]).Concat(png[(offset + 12 + length)..]).ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(cut.AsSpan(offset), kept);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(cut.AsSpan(offset + 8 + kept), Crc32(cut.AsSpan(offset + 4, 4 + kept)));
        return cut;
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }

    [Fact]
    public void AnImageNeedingMoreDecoderMemoryThanAllowedIsUnprocessable()
    {
        // 4000 × 4000 RGB needs about 46 MB to decode; the allocator allows 8 MB.
        using var image = new Image<Rgb24>(4000, 4000);
        var bytes = Png(image);

        var ex = Assert.Throws<InferenceRejectedException>(() =>
            Create(8, 8, new PreprocessingOptions { MaxDecoderMemoryMegabytes = 8 }).Preprocess(bytes).Dispose());

        Assert.Equal(RejectionReason.UnprocessableImage, ex.Reason);
    }

    [Fact]
    public void TheFixtureImagesPreprocessToThePythonPixelValues()
    {
        var fixture = Path.Combine(TestPaths.Fixtures, "parity", "shapeworld-fusion");
        var package = ModelPackageLoaderAccess.PreprocessorOf(TestPaths.DefaultPackage);
        var expected = Parity.TensorFile.ReadFloats(Path.Combine(fixture, "encoder.pixel_values.bin"));
        var preprocessor = new ImagePreprocessor(new PreprocessingOptions(), package);

        for (var i = 0; i < 2; i++)
        {
            using var tensor = preprocessor.Preprocess(File.ReadAllBytes(Path.Combine(fixture, $"image-{i}.png")));
            var reference = expected.AsSpan(i * tensor.Length, tensor.Length);
            var maxDiff = 0f;
            for (var j = 0; j < tensor.Length; j++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(tensor.Span[j] - reference[j]));
            }

            Assert.True(maxDiff <= 1e-6f, $"image-{i}: max difference {maxDiff}");
        }
    }
}

/// <summary>Builds a package's image transform without loading its graphs.</summary>
internal static class ModelPackageLoaderAccess
{
    public static ImageTransform PreprocessorOf(string packageDirectory)
    {
        var config = PackageJson.Read<PreprocessorConfig>(packageDirectory, "preprocessor_config.json");
        return ImageTransform.FromConfig(config, "preprocessor_config.json", graphHeight: null, graphWidth: null);
    }
}
