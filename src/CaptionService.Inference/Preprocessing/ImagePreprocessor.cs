using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace CaptionService.Inference.Preprocessing;

/// <summary>
/// Turns encoded image bytes into the encoder's input: checks the size limits (cheapest first),
/// decodes, applies EXIF orientation, converts to RGB, resizes, rescales and normalises into an
/// NCHW float buffer. Every client fault becomes an <see cref="InferenceRejectedException"/>.
/// </summary>
internal sealed class ImagePreprocessor
{
    private const string SupportedFormats = "JPEG, PNG, WebP, GIF or BMP";
    private readonly PreprocessingOptions _limits;
    private readonly ImageTransform _transform;
    private readonly Configuration _configuration;

    private readonly DecodeBudget _budget;

    public ImagePreprocessor(PreprocessingOptions limits, ImageTransform transform)
    {
        _limits = limits;
        _transform = transform;
        _configuration = ImageDecoding.CreateConfiguration(limits.MaxDecoderMemoryMegabytes);
        _budget = DecodeBudget.For(limits);
    }

    /// <summary>Preprocesses one image into a new pooled buffer of <see cref="ImageTransform.TensorLength"/> floats (CHW).</summary>
    public PooledBuffer<float> Preprocess(ReadOnlyMemory<byte> encodedImage)
    {
        var pixels = new PooledBuffer<float>(_transform.TensorLength);
        try
        {
            Preprocess(encodedImage, pixels.Span);
            return pixels;
        }
        catch
        {
            pixels.Dispose();
            throw;
        }
    }

    /// <summary>Preprocesses one image into <paramref name="destination"/> (CHW, 3 × H × W floats).</summary>
    public void Preprocess(ReadOnlyMemory<byte> encodedImage, Span<float> destination)
    {
        if (encodedImage.Length > _limits.MaxImageBytes)
        {
            throw new InferenceRejectedException(RejectionReason.ImageTooLarge,
                $"The image is {encodedImage.Length} bytes; the limit is {_limits.MaxImageBytes} bytes.");
        }

        if (encodedImage.IsEmpty)
        {
            throw new InferenceRejectedException(RejectionReason.UnsupportedImageFormat,
                $"The request has no image bytes; send a {SupportedFormats} image.");
        }

        var format = Image.DetectFormat(_configuration, encodedImage.Span)
            ?? throw new InferenceRejectedException(RejectionReason.UnsupportedImageFormat,
                $"The bytes are not a {SupportedFormats} image.");

        CheckBmpHeader(encodedImage.Span, format);
        CheckWebpChunks(encodedImage.Span, format);
        var size = CheckDimensions(encodedImage, format.Name);
        CheckInterlacedPng(encodedImage.Span, format);
        using var decoding = _budget.Take((long)size.Width * size.Height, size.Width, size.Height);
        using var image = Decode(encodedImage, format.Name);
        image.Mutate(context =>
        {
            context.AutoOrient();
            if (_transform.ShortestEdge is { } edge)
            {
                ResizeShortestEdgeAndCrop(context, image.Width, image.Height, edge);
            }
            else if (_transform.Resize && (image.Width != _transform.Width || image.Height != _transform.Height))
            {
                context.Resize(new ResizeOptions
                {
                    Size = new Size(_transform.Width, _transform.Height),
                    Mode = ResizeMode.Stretch,
                    Sampler = _transform.Resampler,
                });
            }
        });

        if (image.Width != _transform.Width || image.Height != _transform.Height)
        {
            // Only reachable when the package turns resizing off.
            throw new InferenceRejectedException(RejectionReason.UnprocessableImage,
                $"The image is {image.Width}x{image.Height}; this model takes exactly {_transform.Width}x{_transform.Height} images.");
        }

        WriteChw(image, _transform, destination);
    }

    /// <summary>CLIP's resize: shorter side to <paramref name="edge"/> (aspect kept), then the centre crop, as transformers crops (offsets rounded down).</summary>
    private void ResizeShortestEdgeAndCrop(IImageProcessingContext context, int width, int height, int edge)
    {
        var (resizedWidth, resizedHeight) = ImageTransform.ShortestEdgeSize(width, height, edge);
        if (resizedWidth != width || resizedHeight != height)
        {
            context.Resize(new ResizeOptions
            {
                Size = new Size(resizedWidth, resizedHeight),
                Mode = ResizeMode.Stretch,
                Sampler = _transform.Resampler,
            });
        }

        if (resizedWidth != _transform.Width || resizedHeight != _transform.Height)
        {
            context.Crop(new Rectangle((resizedWidth - _transform.Width) / 2, (resizedHeight - _transform.Height) / 2, _transform.Width, _transform.Height));
        }
    }

    /// <summary>Writes RGB pixels as normalised planes: all R, then all G, then all B.</summary>
    internal static void WriteChw(Image<Rgb24> image, ImageTransform transform, Span<float> destination)
    {
        var planeLength = transform.Height * transform.Width;
        if (destination.Length != 3 * planeLength)
        {
            throw new ArgumentException($"Expected {3 * planeLength} floats, got {destination.Length}.", nameof(destination));
        }

        var red = transform.ChannelTable(0);
        var green = transform.ChannelTable(1);
        var blue = transform.ChannelTable(2);
        var frame = image.Frames.RootFrame;
        for (var y = 0; y < frame.Height; y++)
        {
            // Row memory (not ProcessPixelRows) because the destination span cannot enter a lambda.
            var row = frame.DangerousGetPixelRowMemory(y).Span;
            var offset = y * transform.Width;
            for (var x = 0; x < row.Length; x++)
            {
                var pixel = row[x];
                destination[offset + x] = red[pixel.R];
                destination[planeLength + offset + x] = green[pixel.G];
                destination[(2 * planeLength) + offset + x] = blue[pixel.B];
            }
        }
    }

    /// <summary>Reads the image's size from its header and refuses one out of bounds.</summary>
    private Size CheckDimensions(ReadOnlyMemory<byte> encodedImage, string formatName)
    {
        IImageInfo? info;
        try
        {
            using var stream = ImageDecoding.AsStream(encodedImage);
            info = Image.Identify(_configuration, stream);
        }
        catch (Exception ex) when (IsDecoderFailure(ex))
        {
            throw Unprocessable(formatName, ex);
        }

        if (info is null)
        {
            throw new InferenceRejectedException(RejectionReason.UnprocessableImage,
                $"The {formatName} image's header cannot be read.");
        }

        var pixels = (long)info.Width * info.Height;
        if (pixels > _limits.MaxPixels)
        {
            throw new InferenceRejectedException(RejectionReason.UnprocessableImage,
                $"The image is {info.Width}x{info.Height} ({pixels} pixels); the limit is {_limits.MaxPixels} pixels.");
        }

        if (info.Width < _limits.MinImageSide || info.Height < _limits.MinImageSide)
        {
            throw new InferenceRejectedException(RejectionReason.UnprocessableImage,
                $"The image is {info.Width}x{info.Height}; each side must be at least {_limits.MinImageSide} pixels.");
        }

        return new Size(info.Width, info.Height);
    }

    /// <summary>Refuses the BMPs whose header would make ImageSharp allocate far more than the file (see <see cref="BmpHeaderCheck"/>).</summary>
    private static void CheckBmpHeader(ReadOnlySpan<byte> encodedImage, IImageFormat format)
    {
        if (format == BmpFormat.Instance && BmpHeaderCheck.FindProblem(encodedImage) is { } problem)
        {
            throw new InferenceRejectedException(RejectionReason.UnprocessableImage, $"The BMP image cannot be decoded: {problem}.");
        }
    }

    /// <summary>Refuses the WebPs whose image data ImageSharp would fill up with stale pooled memory (see <see cref="WebpChunkCheck"/>).</summary>
    private static void CheckWebpChunks(ReadOnlySpan<byte> encodedImage, IImageFormat format)
    {
        if (format == WebpFormat.Instance && WebpChunkCheck.FindProblem(encodedImage) is { } problem)
        {
            throw new InferenceRejectedException(RejectionReason.UnprocessableImage, $"The WebP image cannot be decoded: {problem}.");
        }
    }

    /// <summary>Refuses the interlaced PNGs on which ImageSharp's decoder would never return (see <see cref="InterlacedPngCheck"/>).</summary>
    private static void CheckInterlacedPng(ReadOnlySpan<byte> encodedImage, IImageFormat format)
    {
        if (format == PngFormat.Instance && InterlacedPngCheck.FindProblem(encodedImage) is { } problem)
        {
            throw new InferenceRejectedException(RejectionReason.UnprocessableImage, $"The interlaced PNG image cannot be decoded: {problem}.");
        }
    }

    private Image<Rgb24> Decode(ReadOnlyMemory<byte> encodedImage, string formatName)
    {
        try
        {
            return Image.Load<Rgb24>(_configuration, encodedImage.Span);
        }
        catch (Exception ex) when (IsDecoderFailure(ex))
        {
            throw Unprocessable(formatName, ex);
        }
    }

    /// <summary>
    /// Whether an exception thrown while ImageSharp identifies or decodes the bytes is the bytes'
    /// fault. The decoders are functions of the bytes alone, and besides their own
    /// <see cref="ImageFormatException"/>s they throw what their unchecked paths hit on malformed
    /// data: fuzzing found <see cref="InvalidOperationException"/> (a BMP over 65535 pixels a side),
    /// <see cref="InvalidDataException"/> (corrupt deflate data in a PNG), and null references,
    /// index, argument and division errors inside the BMP palette, JPEG, PNG header and WebP
    /// lossless decoders. None of these is a fault of the server, so all are a 422; only running out
    /// of memory, which says nothing about this image, is left to propagate.
    /// </summary>
    private static bool IsDecoderFailure(Exception ex) => ex is not OutOfMemoryException;

    private static InferenceRejectedException Unprocessable(string formatName, Exception ex) =>
        new(RejectionReason.UnprocessableImage, $"The {formatName} image cannot be decoded: {DecoderProblem(ex)}");

    /// <summary>ImageSharp's own messages say what is wrong; the others are phrased for the client.</summary>
    private static string DecoderProblem(Exception ex) => ex switch
    {
        ImageFormatException or InvalidMemoryOperationException or NotSupportedException or InvalidOperationException => ex.Message,
        InvalidDataException => "its compressed data is corrupt.",
        _ => $"its data is malformed in a way the decoder does not check for (it failed with {ex.GetType().Name}).",
    };
}
