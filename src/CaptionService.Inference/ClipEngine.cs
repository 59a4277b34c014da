using System.Diagnostics;
using CaptionService.Inference.Batching;
using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Preprocessing;
using CaptionService.Inference.Scoring.Clip;
using CaptionService.Inference.Tokenization;
using Microsoft.Extensions.Logging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CaptionService.Inference;

/// <summary>
/// The engine for a CLIP package: scoring only. A request is preprocessed and tokenized on the
/// caller's thread, then joins one dynamic batcher whose executor encodes the batch's images once
/// each and all its texts together (<see cref="ClipScorer"/>). Captioning is refused with
/// <see cref="RejectionReason.NotSupportedByModel"/>.
/// </summary>
public sealed class ClipEngine : ICaptionEngine, IAsyncDisposable
{
    private const string ScoreStage = "score";

    private readonly LoadedClipPackage _package;
    private readonly ImagePreprocessor _preprocessor;
    private readonly DynamicBatcher<ClipScoreJob, ClipScores> _scoreBatcher;
    private readonly EngineMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeSpan _requestTimeout;
    private readonly RequestGate _gate = new();
    private volatile bool _warm;
    private int _disposed;

    private ClipEngine(LoadedClipPackage package, BatchingOptions batching, PreprocessingOptions preprocessing, ILoggerFactory loggerFactory)
    {
        _package = package;
        _logger = loggerFactory.CreateLogger<ClipEngine>();
        _requestTimeout = batching.RequestTimeout;
        var transform = package.ImageTransform;
        _preprocessor = new ImagePreprocessor(preprocessing, transform);
        _metrics = new EngineMetrics();
        var scorer = new ClipScorer(package.Graphs, package.LogitScale, package.Tokenizer.PaddingId, transform.Height, transform.Width);
        _scoreBatcher = new(ScoreStage, BatcherSettings.From(batching), scorer, loggerFactory.CreateLogger("CaptionService.Inference.Batching"), _metrics);
        Model = new ModelInfo(
            package.Identity,
            package.ProviderName,
            transform.Height,
            transform.Width,
            package.VocabularySize,
            package.Tokenizer.MaxLength,
            SupportsScoring: true,
            // No caption decoding, so no decoding rows.
            new BatchingSettings(batching.MaxBatchSize, batching.MaxQueueDelay, batching.MaxQueueSize, batching.RequestTimeout, MaxDecodingRows: 0),
            ManifestSource: package.ManifestInferred ? "inferred" : ModelPackageLoader.ManifestFile,
            package.ManifestJson,
            ModelKind.Scoring,
            package.Dtype);
        _metrics.ObserveQueueDepths(QueueDepths);
        _metrics.ObserveModelInfo(package.Identity.Name, package.Identity.Version, package.ProviderName);
    }

    public ModelInfo Model { get; }

    public bool IsWarm => _warm;

    public IReadOnlyList<string> StuckStages => _scoreBatcher.IsStuck ? [ScoreStage] : [];

    /// <summary>Loads a CLIP package (<see cref="ClipPackageLoader"/>).</summary>
    /// <exception cref="ModelPackageException">A package file is missing, corrupt or inconsistent; the message names it.</exception>
    public static ClipEngine Create(ModelOptions model, BatchingOptions batching, PreprocessingOptions preprocessing, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batching);
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var package = ClipPackageLoader.Load(model, loggerFactory.CreateLogger("CaptionService.Inference.ModelPackage"));
        try
        {
            return new ClipEngine(package, batching, preprocessing, loggerFactory);
        }
        catch
        {
            package.Dispose();
            throw;
        }
    }

    /// <summary>Scores one synthetic image against one text, so that sessions, ImageSharp and the JIT are warm before readiness.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        using (var image = new Image<Rgb24>(Model.ImageWidth, Model.ImageHeight, new Rgb24(128, 128, 128)))
        using (var stream = new MemoryStream())
        {
            image.SaveAsPng(stream);
            await ScoreAsync(stream.ToArray(), ["warm up"], cancellationToken);
        }

        _warm = true;
        var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        CaptionEngineLog.WarmedUp(_logger, elapsedMs);
    }

    public Task<CaptionResult> CaptionAsync(ReadOnlyMemory<byte> encodedImage, GenerationOptions options, CancellationToken cancellationToken = default) =>
        throw new InferenceRejectedException(RejectionReason.NotSupportedByModel,
            $"The model package '{_package.Identity.Name}' is a CLIP model: it scores texts against images (POST /score) and cannot write captions.");

    public IReadOnlyList<string> UnknownWords(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _package.Tokenizer.UnknownWords(text);
    }

    public async Task<ScoreResult> ScoreAsync(ReadOnlyMemory<byte> encodedImage, IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count is < 1 or > CaptionEngine.MaxTextsPerRequest)
        {
            throw new InferenceRejectedException(RejectionReason.InvalidOption, $"Send between 1 and {CaptionEngine.MaxTextsPerRequest} texts; got {texts.Count}.");
        }

        _gate.Enter();
        try
        {
            var started = Stopwatch.GetTimestamp();
            var deadline = started + (long)(_requestTimeout.TotalSeconds * Stopwatch.Frequency);
            var tokenized = ScoringTexts.Encode(_package.Tokenizer, texts);

            using var pixels = _preprocessor.Preprocess(encodedImage);
            var preprocessTime = Stopwatch.GetElapsedTime(started);
            var scored = await _scoreBatcher.EnqueueAsync(new ClipScoreJob(pixels, tokenized), deadline, cancellationToken);
            var scores = texts.Select((text, i) => new TextScore(
                text, scored.Value.Probabilities[i], _package.Tokenizer.UnknownWords(text), scored.Value.Similarities[i], _package.Tokenizer.WasTruncated(tokenized[i]))).ToArray();
            var timings = new Timings(
                scored.QueueTime.TotalMilliseconds, preprocessTime.TotalMilliseconds, scored.ExecutionTime.TotalMilliseconds, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return new ScoreResult(scores, _package.Identity, timings);
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>Stops accepting requests, lets admitted ones finish, then releases the sessions.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _warm = false;
        await _gate.DrainAsync(_logger);
        await _scoreBatcher.DisposeAsync();
        _package.Dispose();
        _metrics.Dispose();
        CaptionEngineLog.Stopped(_logger);
    }

    private IEnumerable<(string Stage, int Depth)> QueueDepths()
    {
        yield return (ScoreStage, _scoreBatcher.QueueDepth);
    }
}
