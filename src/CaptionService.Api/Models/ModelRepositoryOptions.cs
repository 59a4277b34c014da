using System.ComponentModel.DataAnnotations;

namespace CaptionService.Api.Models;

/// <summary>
/// Several models in one server, and how their packages are reloaded. Section <c>CaptionService:Models</c>.
/// Without <see cref="Repository"/> the server serves the one package of <c>CaptionService:Model:Path</c>.
/// </summary>
public sealed class ModelRepositoryOptions
{
    public const string SectionName = "CaptionService:Models";

    /// <summary>
    /// A directory with one model package per subdirectory; the subdirectory's name is the model's
    /// name (letters, digits, '.', '_' and '-'; hidden ones are skipped). Unset: one model, the
    /// package of <c>CaptionService:Model:Path</c>, named after its directory.
    /// </summary>
    public string? Repository { get; set; }

    /// <summary>The model <c>/caption</c>, <c>/score</c> and <c>/model</c> serve; may be left unset when the repository holds one package.</summary>
    [RegularExpression(ModelNames.Pattern)]
    public string? Default { get; set; }

    /// <summary>Reload a package when its files change (a file-system watcher on each package directory).</summary>
    public bool WatchForChanges { get; set; } = true;

    /// <summary>
    /// How long a package's files must stay unchanged before the reload starts, so that a copy in
    /// progress is not loaded half-written.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan ReloadDebounce { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Every this often, each package's file list, sizes and times are compared with the loaded
    /// version's and a difference reloads it: for volumes whose changes raise no file-system event
    /// (NFS, some CSI drivers). Zero turns polling off.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);
}
