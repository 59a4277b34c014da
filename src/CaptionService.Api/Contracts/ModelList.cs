namespace CaptionService.Api.Contracts;

/// <summary>The models this server serves.</summary>
public sealed class ModelList
{
    /// <summary>The name of the model <c>/caption</c>, <c>/score</c> and <c>/model</c> serve.</summary>
    public required string Default { get; init; }

    /// <summary>Every model, by name.</summary>
    public required IReadOnlyList<ModelStatus> Models { get; init; }
}
