using System.ComponentModel.DataAnnotations;

namespace CaptionService.Api.Warnings;

/// <summary>When responses warn. Section <c>CaptionService:Warnings</c>.</summary>
public sealed class WarningOptions
{
    public const string SectionName = "CaptionService:Warnings";

    /// <summary>
    /// A verified caption whose fusion score is below this gets the <c>low-verification</c>
    /// warning. 0.5 is where the fusion score stops calling a statement true.
    /// </summary>
    [Range(0.0, 1.0)]
    public double LowVerificationScore { get; set; } = 0.5;
}
