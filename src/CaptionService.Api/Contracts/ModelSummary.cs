using CaptionService.Inference;

namespace CaptionService.Api.Contracts;

/// <summary>Name and version of the loaded model package, as its manifest states them.</summary>
public sealed class ModelSummary
{
    /// <summary>Package name.</summary>
    /// <example>shapeworld-fusion</example>
    public required string Name { get; init; }

    /// <summary>Package version.</summary>
    /// <example>1.0.0</example>
    public required string Version { get; init; }

    internal static ModelSummary From(ModelIdentity identity) => new() { Name = identity.Name, Version = identity.Version };
}
