using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;

namespace CaptionService.Inference.Preprocessing;

/// <summary>
/// The ImageSharp configuration the engine decodes with: only the formats the service accepts
/// (so anything else is unrecognised, 415) and an allocator that refuses to allocate more than
/// the configured limit for one image.
/// </summary>
internal static class ImageDecoding
{
    public static Configuration CreateConfiguration(int maxDecoderMemoryMegabytes)
    {
        var configuration = new Configuration(
            new JpegConfigurationModule(),
            new PngConfigurationModule(),
            new WebpConfigurationModule(),
            new GifConfigurationModule(),
            new BmpConfigurationModule())
        {
            MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions
            {
                AllocationLimitMegabytes = maxDecoderMemoryMegabytes,
            }),
            PreferContiguousImageBuffers = false,
        };

        // Animated GIFs: only the first frame is captioned, so only the first frame is decoded.
        configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
        return configuration;
    }

    /// <summary>A read-only stream over the bytes, without copying them when they live in an array.</summary>
    public static MemoryStream AsStream(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);
}
