using System.ComponentModel.DataAnnotations;

namespace CaptionService.Api.Admission;

/// <summary>What the server lets in before reading a body. Section <c>CaptionService:Admission</c>.</summary>
public sealed class AdmissionOptions
{
    public const string SectionName = "CaptionService:Admission";

    /// <summary>
    /// The request bytes that may be in flight at once on the inference endpoints (each request
    /// counts its Content-Length, or MaxImageBytes when it sends none, until it is answered). A
    /// request past it gets 503 with Retry-After before its body is read, so that many large
    /// uploads cannot exhaust memory. The default admits about twelve 20 MB uploads at once and
    /// thousands of ordinary ones.
    /// </summary>
    [Range(1, long.MaxValue)]
    public long MaxBodyBytesInFlight { get; set; } = 256L * 1024 * 1024;
}
