using CaptionService.Inference;

namespace CaptionService.Api.Contracts;

/// <summary>Name and version of the loaded model package, as its manifest states them.</summary>
public sealed class ModelSummary
{
    /// <summary>Package name.</summary>
    public required string Name { get; init; }

    /// <summary>Package version.</summary>
    public required string Version { get; init; }

    internal static ModelSummary From(ModelIdentity identity) => new() { Name = identity.Name, Version = identity.Version };
}
