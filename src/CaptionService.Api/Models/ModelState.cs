namespace CaptionService.Api.Models;

/// <summary>Where a model stands; <c>GET /v1/models</c> spells it in lower case.</summary>
internal enum ModelState
{
    /// <summary>Loaded, warming up; requests get 503 until it is ready.</summary>
    Loading,

    /// <summary>Serving requests.</summary>
    Ready,

    /// <summary>No version could be loaded or warmed up; the reason is shown. A reload may still bring it.</summary>
    Failed,
}
