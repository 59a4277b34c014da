using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>Images for the tests: a real ShapeWorld scene and deliberately bad ones.</summary>
internal static class TestImages
{
    private static readonly Lazy<byte[]> ShapeWorld = new(() => File.ReadAllBytes(RepositoryPaths.ShapeWorldImage));

    /// <summary>The ShapeWorld scene of <see cref="RepositoryPaths.ShapeWorldImage"/>, PNG.</summary>
    public static byte[] ShapeWorldPng => ShapeWorld.Value;

    /// <summary>A valid PNG whose sides are under the 8-pixel minimum.</summary>
    public static byte[] TinyPng()
    {
        using var image = new Image<Rgb24>(4, 4, new Rgb24(200, 30, 30));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>The PNG signature and header of the real scene, with the pixel data cut off.</summary>
    public static byte[] TruncatedPng() => ShapeWorldPng[..(ShapeWorldPng.Length / 3)];

    /// <summary>A TIFF header: a real image format, but not one the server decodes.</summary>
    public static byte[] TiffHeader() => [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
}
