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
}
