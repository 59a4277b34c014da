using System.ComponentModel.DataAnnotations;

namespace CaptionService.Inference;

/// <summary>Limits on the images the engine accepts. Section <c>CaptionService:Preprocessing</c>.</summary>
public sealed class PreprocessingOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "CaptionService:Preprocessing";

    /// <summary>Largest encoded image accepted (413 above it).</summary>
    [Range(1, long.MaxValue)]
    public long MaxImageBytes { get; set; } = 20L * 1024 * 1024;

    /// <summary>Largest width × height accepted, read from the header before decoding (422 above it).</summary>
    [Range(1, long.MaxValue)]
    public long MaxPixels { get; set; } = 40_000_000;

    /// <summary>Smallest width or height accepted (422 below it).</summary>
    [Range(1, 65_535)]
    public int MinImageSide { get; set; } = 8;

    /// <summary>
    /// Largest single buffer the image decoder may allocate (the decoded pixels are the largest),
    /// so that a crafted image cannot exhaust the process; an image needing more is refused (422).
    /// </summary>
    [Range(1, 65_536)]
    public int MaxDecoderMemoryMegabytes { get; set; } = 256;

    /// <summary>
    /// Most pixels (width × height, from each image's header) decoded at once across requests, so
    /// that many small uploads of large images cannot exhaust memory: a compressed image can be
    /// far smaller than its pixels (3 bytes each once decoded). An image that would pass it gets
    /// 503 with Retry-After; one image always fits when no other is being decoded. The default,
    /// twice MaxPixels' default, is about 240 MB of decoded pixels.
    /// </summary>
    [Range(1, long.MaxValue)]
    public long MaxDecodingPixelsInFlight { get; set; } = 80_000_000;
}
