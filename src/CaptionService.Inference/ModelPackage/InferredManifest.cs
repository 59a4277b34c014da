using System.Text.Json;

namespace CaptionService.Inference.ModelPackage;

/// <summary>
/// The manifest of a package that has no <c>caption_service.json</c>: an Optimum / transformers.js
/// image-to-text export as downloaded (<c>onnx/encoder_model.onnx</c>,
/// <c>onnx/decoder_model_merged.onnx</c>, the JSON configs and the tokenizer files). Tensor names
/// are Optimum's; the graphs' metadata then confirms them at load, naming any that differ. The
/// sha256s are the files' own, so <see cref="Write"/> can pin the package as it is now; each graph's
/// variants on disk (<c>onnx/encoder_model_quantized.onnx</c>, ...) are recorded with theirs.
/// </summary>
internal static class InferredManifest
{
    public const string EncoderFile = "onnx/encoder_model.onnx";
    public const string DecoderFile = "onnx/decoder_model_merged.onnx";

    /// <summary>The version an inferred manifest reports: nothing in an HF export states one.</summary>
    public const string Version = "unpinned";

    private static readonly JsonSerializerOptions s_writeOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <exception cref="ModelPackageException">A file the layout needs is missing.</exception>
    public static PackageManifest Infer(string directory)
    {
        var generation = PackageJson.Read<GenerationConfig>(directory, "generation_config.json");
        var graphs = new GraphFiles(Digest(directory, EncoderFile), Digest(directory, DecoderFile));
        return new PackageManifest(
            Name: Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)),
            Version: Version,
            Graphs: graphs,
            Encoder: new EncoderNames("pixel_values", "last_hidden_state"),
            Decoder: new DecoderNames(
                InputIds: "input_ids",
                EncoderHiddenStates: "encoder_hidden_states",
                PastKey: "past_key_values.{i}.key",
                PastValue: "past_key_values.{i}.value",
                PresentKey: "present.{i}.key",
                PresentValue: "present.{i}.value",
                Logits: "logits",
                UseCacheBranch: "use_cache_branch"),
            Tokenizer: Tokenizer(directory, generation));
    }

    /// <summary>Writes <paramref name="manifest"/> as the package's <c>caption_service.json</c>; returns its path.</summary>
    public static string Write(string directory, PackageManifest manifest)
    {
        var path = Path.Combine(directory, ModelPackageLoader.ManifestFile);
        File.WriteAllText(path, Serialize(manifest) + "\n");
        return path;
    }

    /// <summary>A manifest as <c>caption_service.json</c> spells it.</summary>
    public static string Serialize(PackageManifest manifest) => JsonSerializer.Serialize(manifest, s_writeOptions);

    private static TokenizerManifest Tokenizer(string directory, GenerationConfig generation)
    {
        var lowercase = PackageJson.Read<TokenizerConfig>(directory, "tokenizer_config.json").DoLowerCase ?? false;
        if (File.Exists(Path.Combine(directory, "vocab.json")) && File.Exists(Path.Combine(directory, "merges.txt")))
        {
            return new TokenizerManifest("bpe", "vocab.json", generation.MaxLength, Merges: "merges.txt", Lowercase: lowercase);
        }

        if (File.Exists(Path.Combine(directory, "vocab.txt")))
        {
            return new TokenizerManifest("wordpiece", "vocab.txt", generation.MaxLength, Lowercase: lowercase);
        }

        if (Tokenization.TokenizerJsonBpe.IsByteLevelBpe(directory))
        {
            // vocab.json and merges.txt are optional in HF exports: tokenizer.json holds the same.
            return new TokenizerManifest("bpe", Tokenization.TokenizerJsonBpe.File, generation.MaxLength, Lowercase: lowercase);
        }

        throw new ModelPackageException(
            $"Model package '{directory}' has no {ModelPackageLoader.ManifestFile} and no tokenizer vocabulary to infer one from: "
            + "it needs vocab.json and merges.txt (byte-level BPE), vocab.txt (WordPiece) or a byte-level BPE tokenizer.json.");
    }

    /// <summary>The graph file with its sha256, and the variants (<c>_quantized</c>, <c>_fp16</c>, ...) present beside it.</summary>
    private static GraphFile Digest(string directory, string relativePath) =>
        new(relativePath, PackageFiles.Sha256(PackageFiles.RequireFile(directory, relativePath)), GraphVariants.Discover(directory, relativePath));
}
