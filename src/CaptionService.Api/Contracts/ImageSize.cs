namespace CaptionService.Api.Contracts;

/// <summary>An image size in pixels.</summary>
public sealed class ImageSize
{
    /// <summary>Height in pixels.</summary>
    public required int Height { get; init; }

    /// <summary>Width in pixels.</summary>
    public required int Width { get; init; }
}
