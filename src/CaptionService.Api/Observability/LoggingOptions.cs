using System.ComponentModel.DataAnnotations;

namespace CaptionService.Api.Observability;

/// <summary>How log events are written to standard output. Section <c>CaptionService:Logging</c>.</summary>
public sealed class LoggingOptions
{
    public const string SectionName = "CaptionService:Logging";

    /// <summary><c>Text</c> (readable, the default) or <c>Json</c> (compact JSON, one event a line, for log collectors).</summary>
    [EnumDataType(typeof(LogFormat))]
    public LogFormat Format { get; set; } = LogFormat.Text;
}

/// <summary>Console output formats.</summary>
public enum LogFormat
{
    /// <summary>One readable line per event.</summary>
    Text,

    /// <summary>Serilog compact JSON (CLEF), one object per line.</summary>
    Json,
}
