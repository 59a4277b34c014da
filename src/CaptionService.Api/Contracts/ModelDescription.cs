using System.Text.Json;
using System.Text.Json.Serialization;
using CaptionService.Inference;

namespace CaptionService.Api.Contracts;

/// <summary>The loaded model and how it runs.</summary>
public sealed class ModelDescription
{
    /// <summary>Package name.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// What the model does: <c>captioning</c> (an image-to-text package: <c>/caption</c> only),
    /// <c>scoring</c> (a CLIP package: <c>/score</c> only; <c>/caption</c> answers 404), or <c>both</c>
    /// (an image-to-text package with a fusion graph).
    /// </summary>
    /// <example>both</example>
    public required string Kind { get; init; }

    /// <summary>Package version.</summary>
    public required string Version { get; init; }

    /// <summary>
    /// The graph variant loaded (<c>CaptionService:Model:Dtype</c>), by transformers.js's dtype
    /// names: <c>fp32</c> (the plain graphs), <c>q8</c> (<c>*_quantized.onnx</c>), <c>fp16</c> (<c>*_fp16.onnx</c>), ...
    /// </summary>
    /// <example>fp32</example>
    public required string Dtype { get; init; }

    /// <summary>The ONNX Runtime execution provider in use.</summary>
    public required string ExecutionProvider { get; init; }

    /// <summary>The size every image is resized to before encoding.</summary>
    public required ImageSize InputSize { get; init; }

    /// <summary>Number of tokens in the tokenizer's vocabulary.</summary>
    public required int VocabularySize { get; init; }

    /// <summary>Longest token sequence the model takes or generates, special tokens included.</summary>
    public required int MaxTokens { get; init; }

    /// <summary>Whether <c>POST /score</c> works: the package has a fusion graph or is a CLIP model.</summary>
    public required bool SupportsScoring { get; init; }

    /// <summary>Whether <c>explain=true</c> works on <c>POST /caption</c>: the caption decoder has cross-attention outputs.</summary>
    public required bool ExplainsCaptions { get; init; }

    /// <summary>Whether <c>explain=true</c> works on <c>POST /score</c>: the fusion graph has cross-attention outputs.</summary>
    public required bool ExplainsScores { get; init; }

    /// <summary>
    /// Where the caption decoder keeps its state between steps (the key/value cache and the image
    /// inputs), as <c>CaptionService:Model:DecoderState</c> resolved for the execution provider in
    /// use: <c>host</c> (host memory, rows moved in place) or <c>device</c> (bound to the
    /// provider's memory with IOBinding; only the logits come back). Absent for a scoring-only
    /// (CLIP) package, which has no decoder.
    /// </summary>
    /// <example>host</example>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DecoderState { get; init; }

    /// <summary>The dynamic batching settings in force.</summary>
    public required BatchingDescription Batching { get; init; }

    /// <summary>
    /// Where the manifest came from: <c>caption_service.json</c>, or <c>inferred</c> for a Hugging
    /// Face export without one (write it with <c>CaptionService.Api write-manifest DIR</c> to pin the package).
    /// </summary>
    public required string ManifestSource { get; init; }

    /// <summary>The package manifest in force, as <c>caption_service.json</c> spells it: graph files, sha256s and tensor names.</summary>
    public required JsonElement Manifest { get; init; }

    internal static ModelDescription From(ModelInfo info) => new()
    {
        Name = info.Identity.Name,
        Version = info.Identity.Version,
        Kind = info.Kind.ToString().ToLowerInvariant(),
        Dtype = info.Dtype,
        ExecutionProvider = info.ExecutionProvider,
        InputSize = new ImageSize { Height = info.ImageHeight, Width = info.ImageWidth },
        VocabularySize = info.VocabularySize,
        MaxTokens = info.MaxTokens,
        SupportsScoring = info.SupportsScoring,
        ExplainsCaptions = info.ExplainsCaptions,
        ExplainsScores = info.ExplainsScores,
        DecoderState = info.DecoderState?.ToString().ToLowerInvariant(),
        Batching = BatchingDescription.From(info.Batching),
        ManifestSource = info.ManifestSource,
        Manifest = JsonDocument.Parse(info.ManifestJson).RootElement.Clone(),
    };
}
