using System.Diagnostics;
using CaptionService.Inference.Encoding;
using CaptionService.Inference.Generation;
using CaptionService.Inference.Preprocessing;
using CaptionService.Inference.Scoring;
using CaptionService.Inference.Tokenization;
using Microsoft.Extensions.Logging;

namespace CaptionService.Inference.ModelPackage;

/// <summary>
/// Reads and validates a model package directory: every config file parses, every graph matches
/// its sha256 and its manifest names, and the pieces agree with each other. Any problem is a
/// <see cref="ModelPackageException"/> naming the file.
/// </summary>
internal static class ModelPackageLoader
{
    public const string ManifestFile = "caption_service.json";

    /// <param name="options">The model settings.</param>
    /// <param name="logger">Where the load is reported.</param>
    /// <param name="joinRunningBatches">The engine's <see cref="BatchingOptions.JoinRunningBatches"/>: whether the encoder yields to decoding depends on it.</param>
    public static LoadedModelPackage Load(ModelOptions options, ILogger logger, bool? joinRunningBatches = null)
    {
        var started = Stopwatch.GetTimestamp();
        var directory = options.ResolvePath();
        if (!System.IO.Directory.Exists(directory))
        {
            throw new ModelPackageException($"Model package directory '{directory}' does not exist (CaptionService:Model:Path).");
        }

        // Without caption_service.json the package is taken as an Optimum / transformers.js export.
        var manifestInferred = !File.Exists(Path.Combine(directory, ManifestFile));
        try
        {
            return Load(options, logger, joinRunningBatches, directory, manifestInferred, started);
        }
        catch (ModelPackageException e) when (manifestInferred)
        {
            throw new ModelPackageException(
                $"Model package '{directory}' has no {ManifestFile}, so it was read as an Optimum / transformers.js export: {e.Message}", e);
        }
    }

    private static LoadedModelPackage Load(ModelOptions options, ILogger logger, bool? joinRunningBatches, string directory, bool manifestInferred, long started)
    {
        var manifest = manifestInferred ? InferredManifest.Infer(directory) : PackageJson.Read<PackageManifest>(directory, ManifestFile);
        var modelConfig = PackageJson.Read<ModelConfig>(directory, "config.json");
        var generation = PackageJson.Read<GenerationConfig>(directory, "generation_config.json");
        var preprocessorPath = PackageFiles.RequireFile(directory, "preprocessor_config.json");
        var preprocessor = PackageJson.Read<PreprocessorConfig>(directory, "preprocessor_config.json");
        if (File.Exists(Path.Combine(directory, "special_tokens_map.json")))
        {
            using var _ = PackageJson.ReadDocument(directory, "special_tokens_map.json");
        }

        CheckModelConfig(directory, modelConfig, generation);
        var tokenizer = TokenizerLoader.Load(directory, manifest.Tokenizer, generation);
        // From here on the graphs are the files of the configured variant (fp32: the plain ones).
        var graphs = GraphVariants.Select(directory, manifest.Graphs, options.Dtype, manifestInferred);

        var graphPaths = new List<(string Path, GraphFile File)> { (Graph(directory, graphs.Encoder), graphs.Encoder), (Graph(directory, graphs.Decoder), graphs.Decoder) };
        if (graphs.Fusion is { } fusionFile)
        {
            graphPaths.Add((Graph(directory, fusionFile), fusionFile));
        }

        if ((graphs.Fusion is null) != (manifest.Fusion is null))
        {
            throw new ModelPackageException($"Model package file '{Path.Combine(directory, ManifestFile)}': 'graphs.fusion' and 'fusion' must be given together.");
        }

        (string Path, ImageCacheNames Names)? imageCache = null;
        var captionDecoderPath = graphPaths[1].Path;
        if (graphs.ImageCache is not null || graphs.CachedDecoder is not null || manifest.ImageCache is not null)
        {
            if (graphs.ImageCache is not { } cacheFile || graphs.CachedDecoder is not { } cachedDecoderFile || manifest.ImageCache is not { } cacheNames)
            {
                throw new ModelPackageException(
                    $"Model package file '{Path.Combine(directory, ManifestFile)}': 'graphs.image_cache', 'graphs.cached_decoder' and 'image_cache' must be given together.");
            }

            imageCache = (Graph(directory, cacheFile), cacheNames);
            captionDecoderPath = Graph(directory, cachedDecoderFile);
            graphPaths.Add((imageCache.Value.Path, cacheFile));
            graphPaths.Add((captionDecoderPath, cachedDecoderFile));
        }

        // An inferred manifest's digests were just computed from the files themselves.
        foreach (var (path, file) in manifestInferred ? [] : graphPaths)
        {
            PackageFiles.VerifySha256(path, file.Sha256);
        }

        var sessions = OrtSessionFactory.Create(options, logger);
        EncoderGraph? encoder = null;
        DecoderGraph? decoder = null;
        FusionGraph? fusion = null;
        try
        {
            // With an image cache the merged decoder is only checked against its digest: the
            // engine decodes with the cached pair, the merged one is there for other runtimes.
            decoder = DecoderGraph.Load(sessions, captionDecoderPath, manifest.Decoder, modelConfig.Decoder.VocabSize, imageCache);
            encoder = EncoderGraph.Load(sessions, graphPaths[0].Path, manifest.Encoder,
                options.ResolveEncoderNiceness(decoder.JoinsRunningBatches(joinRunningBatches)));
            if (manifest.Fusion is { } fusionNames)
            {
                fusion = FusionGraph.Load(sessions, Graph(directory, graphs.Fusion!), fusionNames);
            }

            if (encoder.HiddenSize is { } encoderWidth && decoder.HiddenSize is { } decoderWidth && encoderWidth != decoderWidth)
            {
                throw new ModelPackageException(
                    $"Model package file '{imageCache?.Path ?? captionDecoderPath}' takes encoder states of width {decoderWidth}, but '{graphPaths[0].Path}' produces width {encoderWidth}.");
            }

            var transform = ImageTransform.FromConfig(preprocessor, preprocessorPath, encoder.Height, encoder.Width);
            var maxNewTokens = generation.MaxLength - 1;
            if (modelConfig.Decoder.NPositions is { } positions)
            {
                maxNewTokens = Math.Min(maxNewTokens, positions);
            }

            if (maxNewTokens < 1)
            {
                throw new ModelPackageException($"Model package file '{Path.Combine(directory, "generation_config.json")}': max_length {generation.MaxLength} leaves no room to generate.");
            }

            var defaults = CheckedGenerationDefaults(directory, generation, maxNewTokens);
            var sceneStatistics = manifest.SceneStatistics is { } statisticsFile
                ? SceneStatistics.Load(directory, statisticsFile, encoder.HiddenSize)
                : null;
            var package = new LoadedModelPackage
            {
                Directory = directory,
                Manifest = manifest,
                ManifestInferred = manifestInferred,
                Dtype = options.Dtype,
                Generation = generation,
                ProviderName = sessions.ProviderName,
                Encoder = encoder,
                Decoder = decoder,
                Fusion = fusion,
                Tokenizer = tokenizer,
                SceneStatistics = sceneStatistics,
                ImageTransform = transform,
                MaxNewTokens = maxNewTokens,
                GenerationDefaults = defaults,
            };
            var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var captionDecoder = decoder.CachesImageKeysValues ? "the image cache (cross-attention keys and values once per image)" : "the merged decoder";
            ModelPackageLog.PackageLoaded(logger, manifest.Name, manifest.Version, directory, sessions.ProviderName, elapsedMs, captionDecoder, options.Dtype);
            return package;
        }
        catch
        {
            encoder?.Dispose();
            decoder?.Dispose();
            fusion?.Dispose();
            throw;
        }
    }

    /// <summary>The package's generate defaults, refused at start-up when a request relying on them would be rejected.</summary>
    private static GenerationDefaults CheckedGenerationDefaults(string directory, GenerationConfig generation, int maxNewTokens)
    {
        var defaults = GenerationDefaults.From(generation);
        if (defaults.Sample && defaults.Beams > 1)
        {
            throw new ModelPackageException(
                $"Model package file '{Path.Combine(directory, "generation_config.json")}': do_sample with num_beams {defaults.Beams} (beam sampling) is not supported; choose one.");
        }

        try
        {
            GenerationPlan.Create(GenerationOptions.PackageDefaults, maxNewTokens, generation.DecoderStartTokenId, generation.EosTokenId, defaults);
        }
        catch (InferenceRejectedException ex)
        {
            throw new ModelPackageException($"Model package file '{Path.Combine(directory, "generation_config.json")}': its generation defaults are not supported: {ex.Message}", ex);
        }

        return defaults;
    }

    private static string Graph(string directory, GraphFile file) => PackageFiles.RequireFile(directory, file.File);

    private static void CheckModelConfig(string directory, ModelConfig config, GenerationConfig generation)
    {
        var path = Path.Combine(directory, "config.json");
        if (config.ModelType != "vision-encoder-decoder" || !config.IsEncoderDecoder)
        {
            throw new ModelPackageException($"Model package file '{path}' must describe a vision-encoder-decoder (model_type '{config.ModelType}', is_encoder_decoder {config.IsEncoderDecoder}).");
        }

        var vocabularySize = config.Decoder.VocabSize;
        foreach (var (name, id) in new[] { ("decoder_start_token_id", generation.DecoderStartTokenId), ("eos_token_id", generation.EosTokenId) })
        {
            if (id < 0 || id >= vocabularySize)
            {
                throw new ModelPackageException(
                    $"Model package file '{Path.Combine(directory, "generation_config.json")}': {name} {id} is outside the vocabulary (vocab_size {vocabularySize} in config.json).");
            }
        }
    }
}
