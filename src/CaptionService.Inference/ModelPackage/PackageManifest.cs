namespace CaptionService.Inference.ModelPackage;

/// <summary><c>caption_service.json</c>: which graph files the package has and what their inputs and outputs are called.</summary>
internal sealed record PackageManifest(
    string Name,
    string Version,
    GraphFiles Graphs,
    EncoderNames Encoder,
    DecoderNames Decoder,
    TokenizerManifest Tokenizer,
    FusionNames? Fusion = null);

internal sealed record GraphFiles(GraphFile Encoder, GraphFile Decoder, GraphFile? Fusion = null);

/// <summary>A graph file relative to the package directory, with the sha256 it must have.</summary>
internal sealed record GraphFile(string File, string Sha256);

internal sealed record EncoderNames(string PixelValues, string LastHiddenState);

/// <summary>
/// Decoder tensor names. The past and present names contain <c>{i}</c>, the layer index; the layer
/// count is discovered from the graph.
/// </summary>
internal sealed record DecoderNames(
    string InputIds,
    string EncoderHiddenStates,
    string PastKey,
    string PastValue,
    string PresentKey,
    string PresentValue,
    string Logits,
    string? UseCacheBranch = null);

/// <summary>Fusion tensor names, and how the logit becomes a score (<c>sigmoid</c>).</summary>
internal sealed record FusionNames(
    string InputIds,
    string AttentionMask,
    string EncoderHiddenStates,
    string Logits,
    string Score);

/// <summary>The tokenizer kind (<c>wordpiece</c> or <c>bpe</c>), its files, and the longest token sequence.</summary>
internal sealed record TokenizerManifest(string Kind, string Vocab, int MaxLength, string? Merges = null, bool Lowercase = false);
