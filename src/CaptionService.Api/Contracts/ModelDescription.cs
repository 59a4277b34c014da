using CaptionService.Inference;

namespace CaptionService.Api.Contracts;

/// <summary>The loaded model and how it runs.</summary>
public sealed class ModelDescription
{
    /// <summary>Package name.</summary>
    public required string Name { get; init; }

    /// <summary>Package version.</summary>
    public required string Version { get; init; }

    /// <summary>The ONNX Runtime execution provider in use.</summary>
    public required string ExecutionProvider { get; init; }

    /// <summary>The size every image is resized to before encoding.</summary>
    public required ImageSize InputSize { get; init; }

    /// <summary>Number of tokens in the tokenizer's vocabulary.</summary>
    public required int VocabularySize { get; init; }

    /// <summary>Longest token sequence the model takes or generates, special tokens included.</summary>
    public required int MaxTokens { get; init; }

    /// <summary>Whether the package has a fusion graph, so that <c>POST /score</c> works.</summary>
    public required bool SupportsScoring { get; init; }

    /// <summary>The dynamic batching settings in force.</summary>
    public required BatchingDescription Batching { get; init; }

    internal static ModelDescription From(ModelInfo info) => new()
    {
        Name = info.Identity.Name,
        Version = info.Identity.Version,
        ExecutionProvider = info.ExecutionProvider,
        InputSize = new ImageSize { Height = info.ImageHeight, Width = info.ImageWidth },
        VocabularySize = info.VocabularySize,
        MaxTokens = info.MaxTokens,
        SupportsScoring = info.SupportsScoring,
        Batching = BatchingDescription.From(info.Batching),
    };
}
