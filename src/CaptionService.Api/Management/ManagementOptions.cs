using System.ComponentModel.DataAnnotations;

namespace CaptionService.Api.Management;

/// <summary>The management port. Section <c>CaptionService:Management</c>.</summary>
public sealed class ManagementOptions
{
    public const string SectionName = "CaptionService:Management";

    /// <summary>
    /// A second port for <c>/metrics</c> and <c>/swagger</c> (UI and OpenAPI document), which
    /// then answer 404 on the public port(s); probes and the API answer on both. Unset (the
    /// default): everything is served on the public port. Must differ from the public port.
    /// </summary>
    [Range(1, 65535)]
    public int? Port { get; set; }
}
