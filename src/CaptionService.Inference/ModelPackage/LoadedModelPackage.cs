using CaptionService.Inference.Encoding;
using CaptionService.Inference.Generation;
using CaptionService.Inference.Preprocessing;
using CaptionService.Inference.Scoring;
using CaptionService.Inference.Tokenization;

namespace CaptionService.Inference.ModelPackage;

/// <summary>A validated model package: its sessions (one per graph), tokenizer, image transform and limits.</summary>
internal sealed class LoadedModelPackage : IDisposable
{
    public required string Directory { get; init; }

    public required PackageManifest Manifest { get; init; }

    /// <summary>True when the package has no caption_service.json and its manifest was inferred (<see cref="InferredManifest"/>).</summary>
    public required bool ManifestInferred { get; init; }

    /// <summary>The graph variant loaded (<see cref="ModelOptions.Dtype"/>).</summary>
    public required string Dtype { get; init; }

    public required GenerationConfig Generation { get; init; }

    public required string ProviderName { get; init; }

    public required EncoderGraph Encoder { get; init; }

    public required DecoderGraph Decoder { get; init; }

    public required FusionGraph? Fusion { get; init; }

    public required ITextTokenizer Tokenizer { get; init; }

    /// <summary>The calibration of the out-of-distribution check, when the package has one.</summary>
    public required SceneStatistics? SceneStatistics { get; init; }

    public required ImageTransform ImageTransform { get; init; }

    /// <summary>The most tokens one caption may take, end-of-sequence included (generation max_length minus the start token).</summary>
    public required int MaxNewTokens { get; init; }

    /// <summary>What requests get for the generation options they leave out (generation_config.json, else transformers' defaults).</summary>
    public required GenerationDefaults GenerationDefaults { get; init; }

    public ModelIdentity Identity => new(Manifest.Name, Manifest.Version);

    public void Dispose()
    {
        Encoder.Dispose();
        Decoder.Dispose();
        Fusion?.Dispose();
    }
}
