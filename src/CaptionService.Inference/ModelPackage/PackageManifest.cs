namespace CaptionService.Inference.ModelPackage;

/// <summary>
/// <c>caption_service.json</c>: which graph files the package has and what their inputs and outputs
/// are called; <c>scene_statistics</c> optionally names the out-of-distribution calibration file
/// (<see cref="Encoding.SceneStatistics"/>).
/// </summary>
internal sealed record PackageManifest(
    string Name,
    string Version,
    GraphFiles Graphs,
    EncoderNames Encoder,
    DecoderNames Decoder,
    TokenizerManifest Tokenizer,
    FusionNames? Fusion = null,
    ImageCacheNames? ImageCache = null,
    string? SceneStatistics = null);

/// <summary>
/// The graph files. <c>image_cache</c> and <c>cached_decoder</c> are optional and go together: the
/// service then decodes captions with them instead of <c>decoder</c>, which stays for other runtimes.
/// </summary>
internal sealed record GraphFiles(
    GraphFile Encoder,
    GraphFile Decoder,
    GraphFile? Fusion = null,
    GraphFile? ImageCache = null,
    GraphFile? CachedDecoder = null);

/// <summary>
/// A graph file relative to the package directory, with the sha256 it must have, and its variants
/// by transformers.js dtype name (<c>"q8": {"file": "onnx/encoder_model_quantized.onnx", "sha256": ...}</c>),
/// of which <see cref="ModelOptions.Dtype"/> picks one (<see cref="GraphVariants"/>).
/// </summary>
internal sealed record GraphFile(string File, string Sha256, IReadOnlyDictionary<string, GraphFile>? Variants = null);

internal sealed record EncoderNames(string PixelValues, string LastHiddenState);

/// <summary>
/// Decoder tensor names. The past and present names contain <c>{i}</c>, the layer index; the layer
/// count is discovered from the graph. <see cref="CrossAttentions"/> (optional, with <c>{i}</c>)
/// names the explanation outputs of the graph the server decodes with: each layer's cross-attention
/// weights over the image tokens, <c>[batch, heads, tokens, image tokens]</c>.
/// <see cref="CrossAttentionHeads"/> (optional, with <see cref="CrossAttentions"/> only) picks the
/// heads whose mean a caption word's map is, as <c>[layer, head]</c> pairs from 0; without it, every
/// head of every layer (<see cref="Explanation.CrossAttentionOutputs"/>).
/// </summary>
internal sealed record DecoderNames(
    string InputIds,
    string EncoderHiddenStates,
    string PastKey,
    string PastValue,
    string PresentKey,
    string PresentValue,
    string Logits,
    string? UseCacheBranch = null,
    string? CrossAttentions = null,
    IReadOnlyList<int[]>? CrossAttentionHeads = null);

/// <summary>
/// The image-cache graph's input, and the per-layer names (with <c>{i}</c>) of the keys and values it
/// outputs; the cached decoder takes them as inputs under the same names, beside the decoder names.
/// </summary>
internal sealed record ImageCacheNames(string EncoderHiddenStates, string Key, string Value)
{
    /// <summary>Layer 0 key, layer 0 value, layer 1 key, ...</summary>
    public string[] LayerNames(int layers) =>
        [.. Enumerable.Range(0, layers).SelectMany(layer => new[] { LayerPattern.Name(Key, layer), LayerPattern.Name(Value, layer) })];
}

/// <summary>
/// Fusion tensor names, and how the logit becomes a score (<c>sigmoid</c>); <see cref="CrossAttentions"/>
/// as for the decoder (optional, with <c>{i}</c>), the evidence maps that explain a score.
/// </summary>
internal sealed record FusionNames(
    string InputIds,
    string AttentionMask,
    string EncoderHiddenStates,
    string Logits,
    string Score,
    string? CrossAttentions = null);

/// <summary>The tokenizer kind (<c>wordpiece</c> or <c>bpe</c>), its files, and the longest token sequence.</summary>
internal sealed record TokenizerManifest(string Kind, string Vocab, int MaxLength, string? Merges = null, bool Lowercase = false);
