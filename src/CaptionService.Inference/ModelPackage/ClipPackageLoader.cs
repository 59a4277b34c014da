using System.Diagnostics;
using CaptionService.Inference.Preprocessing;
using CaptionService.Inference.Scoring.Clip;
using CaptionService.Inference.Tokenization;
using Microsoft.Extensions.Logging;

namespace CaptionService.Inference.ModelPackage;

/// <summary>
/// Loads a CLIP package in the Xenova/clip-vit-base-patch32 layout (transformers.js's): config.json
/// with <c>model_type: "clip"</c>, preprocessor_config.json (CLIPImageProcessor), tokenizer.json
/// (CLIP BPE) and <c>onnx/model.onnx</c>, plus optionally <c>onnx/text_model.onnx</c> and
/// <c>onnx/vision_model.onnx</c>. It needs no caption_service.json: the manifest <c>GET /model</c>
/// shows is then inferred from the files, with their sha256s; with one (<see cref="ClipManifest"/>,
/// as <c>write-manifest</c> writes it) the graph files loaded must have the sha256s it pins.
/// </summary>
internal static class ClipPackageLoader
{
    /// <summary>True for a directory whose config.json says <c>model_type: "clip"</c>.</summary>
    public static bool IsClipPackage(string directory) =>
        File.Exists(Path.Combine(directory, "config.json"))
        && PackageJson.Read<ModelTypeConfig>(directory, "config.json").ModelType == "clip";

    public static LoadedClipPackage Load(ModelOptions options, ILogger logger)
    {
        var started = Stopwatch.GetTimestamp();
        var directory = options.ResolvePath();
        var config = PackageJson.Read<ClipModelConfig>(directory, "config.json");
        var preprocessorPath = PackageFiles.RequireFile(directory, "preprocessor_config.json");
        var preprocessor = PackageJson.Read<ClipPreprocessorConfig>(directory, "preprocessor_config.json");
        var tokenizer = ClipBpeTextTokenizer.Load(directory, config.TextConfig.MaxPositionEmbeddings);
        var manifestInferred = !File.Exists(Path.Combine(directory, ModelPackageLoader.ManifestFile));
        var manifest = manifestInferred ? ClipManifest.Infer(directory, tokenizer.MaxLength) : ClipManifest.Read(directory);

        if (!manifestInferred)
        {
            // Before ONNX Runtime parses them: a changed file is named as such, not as unparseable.
            manifest.Verify(directory, ClipGraphs.FilesToLoad(directory, options.Dtype).Where(file => File.Exists(Path.Combine(directory, file))));
        }

        var sessions = OrtSessionFactory.Create(options, logger);
        var graphs = ClipGraphs.Load(sessions, directory, options.Dtype);
        try
        {
            var transform = ImageTransform.FromClipConfig(preprocessor, preprocessorPath, graphs.ImageHeight, graphs.ImageWidth);
            if (config.ProjectionDim is { } projection && projection != graphs.EmbeddingSize)
            {
                throw new ModelPackageException(
                    $"Model package file '{Path.Combine(directory, "config.json")}' says projection_dim {projection}, but the graphs give embeddings of {graphs.EmbeddingSize}.");
            }

            // Two probe texts ("a", "red") whose cosines with a grey image fix the scale.
            long[][] probes = [tokenizer.EncodeForScoring("a"), tokenizer.EncodeForScoring("red")];
            var logitScale = ClipGraphs.MeasureLogitScale(sessions, directory, transform.Height, transform.Width, probes, options.Dtype);
            var name = manifest.Name;
            var towers = graphs.Split ? "the text and vision graphs apart (one image encoding per request)" : "the combined graph";
            var package = new LoadedClipPackage
            {
                Directory = directory,
                Identity = new ModelIdentity(name, manifest.Version),
                ManifestInferred = manifestInferred,
                ProviderName = sessions.ProviderName,
                Dtype = options.Dtype,
                Graphs = graphs,
                Tokenizer = tokenizer,
                ImageTransform = transform,
                LogitScale = logitScale,
                VocabularySize = config.TextConfig.VocabSize,
                ManifestJson = manifest.Describe(graphs.Split ? "text_model + vision_model" : "model", logitScale),
            };
            var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            ModelPackageLog.ClipPackageLoaded(logger, name, directory, sessions.ProviderName, elapsedMs, towers, logitScale, options.Dtype);
            return package;
        }
        catch
        {
            graphs.Dispose();
            throw;
        }
    }
}

/// <summary>A validated CLIP package: its graphs, tokenizer, image transform and similarity scale.</summary>
internal sealed class LoadedClipPackage : IDisposable
{
    public required string Directory { get; init; }

    public required ModelIdentity Identity { get; init; }

    /// <summary>True when the package has no caption_service.json and its manifest was inferred (<see cref="ClipManifest.Infer"/>).</summary>
    public required bool ManifestInferred { get; init; }

    public required string ProviderName { get; init; }

    /// <summary>The graph variant loaded (<see cref="ModelOptions.Dtype"/>).</summary>
    public required string Dtype { get; init; }

    public required ClipGraphs Graphs { get; init; }

    public required ClipBpeTextTokenizer Tokenizer { get; init; }

    public required ImageTransform ImageTransform { get; init; }

    /// <summary>exp(logit_scale): logits are this times the cosine.</summary>
    public required double LogitScale { get; init; }

    public required int VocabularySize { get; init; }

    public required string ManifestJson { get; init; }

    public void Dispose() => Graphs.Dispose();
}
