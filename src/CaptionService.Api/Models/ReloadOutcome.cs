namespace CaptionService.Api.Models;

/// <summary>What the latest reload attempt of a model did.</summary>
/// <param name="At">When it ended.</param>
/// <param name="Succeeded">True when the new version was swapped in.</param>
/// <param name="Duration">Time to load, validate and warm up the new version.</param>
/// <param name="Trigger">What started it: <c>file change</c>, <c>poll</c> or <c>request</c>.</param>
/// <param name="Error">Why the new version was refused; null when it was swapped in.</param>
/// <param name="Version">The package version now serving.</param>
internal sealed record ReloadOutcome(DateTimeOffset At, string Trigger, bool Succeeded, string? Error, TimeSpan Duration, string? Version);
