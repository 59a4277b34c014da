using System.ComponentModel.DataAnnotations;

namespace CaptionService.Api.Security;

/// <summary>Optional API keys. Section <c>CaptionService:Security</c>. No key configured: every endpoint is open.</summary>
public sealed class SecurityOptions
{
    public const string SectionName = "CaptionService:Security";

    /// <summary>
    /// SHA-256 hashes (64 hex digits) of the accepted keys, never the keys themselves:
    /// <c>printf %s "$KEY" | sha256sum</c>.
    /// </summary>
    public IList<string> ApiKeys { get; } = [];

    /// <summary>A file with more hashes, one per line (a mounted Kubernetes Secret, say); blank lines and <c>#</c> comments are ignored.</summary>
    public string? ApiKeysFile { get; set; }

    /// <summary>Whether <c>/metrics</c> stays open when keys are on (a Prometheus scraper usually has none).</summary>
    public bool OpenMetrics { get; set; } = true;

    /// <summary>Whether <c>/swagger</c> (UI and document) stays open when keys are on.</summary>
    public bool OpenSwagger { get; set; } = true;

    /// <summary>
    /// Origins whose browser pages may call the API (CORS), e.g. <c>https://app.example.com</c>;
    /// none by default, so browsers allow only same-origin pages.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>Realm named in <c>WWW-Authenticate</c>.</summary>
    [Required]
    public string Realm { get; set; } = "CaptionService";
}
