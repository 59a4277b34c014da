namespace CaptionService.Api.Contracts;

/// <summary>An image size in pixels.</summary>
public sealed class ImageSize
{
    /// <summary>Height in pixels.</summary>
    /// <example>64</example>
    public required int Height { get; init; }

    /// <summary>Width in pixels.</summary>
    /// <example>64</example>
    public required int Width { get; init; }
}
