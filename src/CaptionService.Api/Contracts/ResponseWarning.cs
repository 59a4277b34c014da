namespace CaptionService.Api.Contracts;

/// <summary>Something about the answer that makes it less trustworthy than it looks.</summary>
public sealed class ResponseWarning
{
    /// <summary>What kind of warning (the README and the <c>code</c> schema list every code and its meaning).</summary>
    /// <example>out-of-distribution</example>
    public required string Code { get; init; }

    /// <summary>What was found in this request, in words.</summary>
    /// <example>The image is unlike the model's scenes: distance 41.2, threshold 18.3.</example>
    public required string Message { get; init; }
}
