using System.ComponentModel.DataAnnotations;

namespace CaptionService.Api.Draining;

/// <summary>How the server drains on SIGTERM. Section <c>CaptionService:Shutdown</c>.</summary>
public sealed class ShutdownOptions
{
    public const string SectionName = "CaptionService:Shutdown";

    /// <summary>
    /// How long requests already accepted may still run after SIGTERM. Readiness is false and new
    /// requests get 503 during this time; the process exits as soon as the last one finishes.
    /// Kubernetes' terminationGracePeriodSeconds must cover preStop plus this.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(20);
}
