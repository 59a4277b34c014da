using System.ComponentModel.DataAnnotations;

namespace CaptionService.Api.Security;

/// <summary>
/// Per-client request limits on the inference endpoints. Section <c>CaptionService:RateLimit</c>.
/// A client is its API key when keys are on, else its address. Off by default.
/// </summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "CaptionService:RateLimit";

    /// <summary>Requests one client may send to <c>/caption</c> and <c>/score</c> per window; 0 turns the limit off.</summary>
    [Range(0, 1_000_000)]
    public int PermitsPerWindow { get; set; }

    /// <summary>The window the permits renew in.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}
