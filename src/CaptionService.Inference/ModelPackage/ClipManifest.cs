using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionService.Inference.Scoring.Clip;

namespace CaptionService.Inference.ModelPackage;

/// <summary>
/// <c>caption_service.json</c> of a CLIP package (<c>"kind": "clip"</c>): its graph files with
/// sha256s (and their variants, as for image-to-text packages), pinning the package. Without one
/// the server infers it from the files (<see cref="Infer"/>); <c>write-manifest</c> writes that.
/// The tensor names are CLIP's ONNX export's and the tokenizer is <c>tokenizer.json</c>, so
/// neither is configurable.
/// </summary>
internal sealed record ClipManifest(string Name, string Version, string Kind, ClipGraphFiles Graphs, ClipTokenizerManifest Tokenizer)
{
    public const string ClipKind = "clip";

    private static readonly JsonSerializerOptions s_writeOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The manifest of the package's files as they are now: every graph present, its variants, their sha256s.</summary>
    public static ClipManifest Infer(string directory, int maxLength)
    {
        GraphFile? Optional(string file) =>
            File.Exists(Path.Combine(directory, file))
                ? new GraphFile(file, PackageFiles.Sha256(PackageFiles.RequireFile(directory, file)), GraphVariants.Discover(directory, file))
                : null;

        // The combined graph may be absent in fp32 when a variant of it is there; ClipGraphs says what is missing for the dtype in use.
        var model = Optional(ClipGraphs.CombinedFile)
            ?? new GraphFile(ClipGraphs.CombinedFile, "", GraphVariants.Discover(directory, ClipGraphs.CombinedFile));
        return new ClipManifest(
            Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)),
            InferredManifest.Version,
            ClipKind,
            new ClipGraphFiles(model, Optional(ClipGraphs.TextFile), Optional(ClipGraphs.VisionFile)),
            new ClipTokenizerManifest("clip-bpe", "tokenizer.json", maxLength));
    }

    /// <summary>Reads and checks the package's caption_service.json as a CLIP manifest.</summary>
    public static ClipManifest Read(string directory)
    {
        var manifest = PackageJson.Read<ClipManifest>(directory, ModelPackageLoader.ManifestFile);
        var path = Path.Combine(directory, ModelPackageLoader.ManifestFile);
        if (manifest.Kind != ClipKind)
        {
            throw new ModelPackageException($"Model package file '{path}': config.json says model_type 'clip', but the manifest's kind is '{manifest.Kind}'; expected '{ClipKind}'.");
        }

        foreach (var (file, expected) in new[] { (manifest.Graphs.Model, ClipGraphs.CombinedFile), (manifest.Graphs.TextModel, ClipGraphs.TextFile), (manifest.Graphs.VisionModel, ClipGraphs.VisionFile) })
        {
            if (file is not null && file.File != expected)
            {
                throw new ModelPackageException($"Model package file '{path}': a CLIP package's graph '{file.File}' must be '{expected}' (transformers.js's layout).");
            }
        }

        return manifest;
    }

    /// <summary>
    /// Checks that each graph file the server loaded (<paramref name="filesInUse"/>, of the dtype's
    /// variant) is one this manifest pins, with the sha256 it states.
    /// </summary>
    public void Verify(string directory, IEnumerable<string> filesInUse)
    {
        var pinned = new[] { Graphs.Model, Graphs.TextModel, Graphs.VisionModel }
            .OfType<GraphFile>()
            .SelectMany(file => new[] { file }.Concat(file.Variants?.Values ?? []))
            .Where(file => file.Sha256.Length > 0)
            .ToDictionary(file => file.File, StringComparer.Ordinal);
        foreach (var file in filesInUse)
        {
            if (!pinned.TryGetValue(file, out var entry))
            {
                throw new ModelPackageException(
                    $"Model package file '{Path.Combine(directory, ModelPackageLoader.ManifestFile)}' does not pin '{file}', which the server would load; pinned: {string.Join(", ", pinned.Keys.Order(StringComparer.Ordinal))}.");
            }

            PackageFiles.VerifySha256(PackageFiles.RequireFile(directory, file), entry.Sha256);
        }
    }

    /// <summary>Writes the manifest as the package's caption_service.json; returns its path.</summary>
    public string Write(string directory)
    {
        var path = Path.Combine(directory, ModelPackageLoader.ManifestFile);
        File.WriteAllText(path, Serialize() + "\n");
        return path;
    }

    /// <summary>The manifest as caption_service.json spells it.</summary>
    public string Serialize() => JsonSerializer.Serialize(this, s_writeOptions);

    /// <summary>What GET /model shows: the manifest, and how the server scores with it.</summary>
    public string Describe(string towers, double logitScale)
    {
        var node = JsonNode.Parse(Serialize())!.AsObject();
        node["scoring"] = new JsonObject { ["towers"] = towers, ["logit_scale"] = logitScale };
        return node.ToJsonString(s_writeOptions);
    }
}

/// <summary>
/// The CLIP graphs: <c>onnx/model.onnx</c> (combined; the similarity scale is measured on it) and
/// optionally the towers <c>onnx/text_model.onnx</c> and <c>onnx/vision_model.onnx</c>.
/// </summary>
internal sealed record ClipGraphFiles(GraphFile Model, GraphFile? TextModel = null, GraphFile? VisionModel = null);

/// <summary>The CLIP tokenizer: always <c>clip-bpe</c> from <c>tokenizer.json</c>, at most <see cref="MaxLength"/> tokens.</summary>
internal sealed record ClipTokenizerManifest(string Kind, string File, int MaxLength);
