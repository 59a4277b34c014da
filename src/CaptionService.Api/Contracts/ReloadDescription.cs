using CaptionService.Api.Models;

namespace CaptionService.Api.Contracts;

/// <summary>A reload attempt: a new version of the package loaded, validated and warmed up beside the serving one.</summary>
public sealed class ReloadDescription
{
    /// <summary>When it ended (UTC).</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>What started it: <c>file change</c>, <c>poll</c> or <c>request</c>.</summary>
    /// <example>file change</example>
    public required string Trigger { get; init; }

    /// <summary>True when the new version was swapped in; false when it was refused and the previous one kept serving.</summary>
    public required bool Succeeded { get; init; }

    /// <summary>Why the new version was refused; null when it succeeded.</summary>
    public string? Error { get; init; }

    /// <summary>Time to load, validate and warm up the new version, in milliseconds.</summary>
    public required double DurationMs { get; init; }

    /// <summary>The package version serving after the attempt.</summary>
    public string? Version { get; init; }

    internal static ReloadDescription From(ReloadOutcome outcome) => new()
    {
        At = outcome.At,
        Trigger = outcome.Trigger,
        Succeeded = outcome.Succeeded,
        Error = outcome.Error,
        DurationMs = Math.Round(outcome.Duration.TotalMilliseconds, 1),
        Version = outcome.Version,
    };
}
