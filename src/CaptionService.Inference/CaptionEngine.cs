using System.Diagnostics;
using CaptionService.Inference.Batching;
using CaptionService.Inference.Encoding;
using CaptionService.Inference.Explanation;
using CaptionService.Inference.Generation;
using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Preprocessing;
using CaptionService.Inference.Scoring;
using CaptionService.Inference.Tokenization;
using Microsoft.Extensions.Logging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CaptionService.Inference;

/// <summary>
/// The engine: one loaded model package behind three dynamic batchers. A request is preprocessed
/// on the caller's thread, then passes the encode stage (images of all requests batched), then the
/// caption stage (KV-cached decoding batched across requests) or the score stage (all texts of all
/// requests in one fusion run).
/// </summary>
public sealed class CaptionEngine : ICaptionEngine, IAsyncDisposable
{
    /// <summary>Most texts one score request may carry.</summary>
    public const int MaxTextsPerRequest = 64;

    private const string EncodeStage = "encode";
    private const string CaptionStage = "caption";
    private const string ScoreStage = "score";

    private readonly LoadedModelPackage _package;
    private readonly ImagePreprocessor _preprocessor;
    private readonly DynamicBatcher<EncodeJob, EncoderState> _encodeBatcher;
    private readonly DynamicBatcher<CaptionJob, IReadOnlyList<GeneratedSequence>> _captionBatcher;
    private readonly DynamicBatcher<ScoreJob, double[]>? _scoreBatcher;
    private readonly EngineMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeSpan _requestTimeout;
    private readonly RequestGate _gate = new();
    private volatile bool _warm;
    private int _disposed;

    private CaptionEngine(
        LoadedModelPackage package, BatchingOptions batching, PreprocessingOptions preprocessing, ILoggerFactory loggerFactory, IBatchExecutorDecorator? executors)
    {
        _package = package;
        _logger = loggerFactory.CreateLogger<CaptionEngine>();
        _requestTimeout = batching.RequestTimeout;
        _preprocessor = new ImagePreprocessor(preprocessing, package.ImageTransform);
        _metrics = new EngineMetrics();

        var settings = BatcherSettings.From(batching);
        var batchLogger = loggerFactory.CreateLogger("CaptionService.Inference.Batching");
        var transform = package.ImageTransform;
        IBatchExecutor<TPayload, TResult> Decorated<TPayload, TResult>(string stage, IBatchExecutor<TPayload, TResult> executor) =>
            executors?.Decorate(stage, executor) ?? executor;
        var decodingRows = batching.MaxDecodingRows ?? (package.Decoder.MergesRows ? 2 * batching.MaxBatchSize : batching.MaxBatchSize);
        var joins = package.Decoder.JoinsRunningBatches(batching.JoinRunningBatches);

        // Only when requests join running batches does the encode stage make the caption images'
        // decoder inputs: a batch that starts afresh projects all its images in one run, where the
        // encode stage runs one per image (on the bundled package, 16 small runs cost more than
        // one: the pipelined ceiling fell from 581 to 480 captions/s).
        // Beside a caption stage that requests join (a real-size decoder), a beam request's image
        // also stays out of greedy captions' encoder batches while it is deferred: an encoder batch
        // of that size takes about as much longer per image as it has images, so it would delay them.
        _encodeBatcher = new(
            EncodeStage,
            settings with { Niceness = package.Encoder.Niceness, BulkApart = joins },
            Decorated(EncodeStage, new ImageEncoder(package.Encoder, transform.Height, transform.Width, joins ? package.Decoder : null)),
            batchLogger,
            _metrics,
            isBulk: job => job.ForBeamSearch);
        var reservedRows = joins ? batching.GreedyReservedRows ?? decodingRows / 2 : 0;
        _captionBatcher = new(
            CaptionStage,
            settings with { MaxBatchSize = decodingRows, ReservedSlots = reservedRows },
            Decorated(CaptionStage, new CaptionGenerator(package.Decoder, package.Generation.DecoderStartTokenId, decodingRows, _metrics)),
            batchLogger,
            _metrics,
            isBulk: job => job.Plan.Beams > 1);
        if (package.Fusion is { } fusion)
        {
            _scoreBatcher = new(ScoreStage, settings, Decorated(ScoreStage, new FusionScorer(fusion, package.Tokenizer.PaddingId)), batchLogger, _metrics);
        }

        Model = new ModelInfo(
            package.Identity,
            package.ProviderName,
            transform.Height,
            transform.Width,
            package.Decoder.VocabularySize,
            package.MaxNewTokens,
            package.Fusion is not null,
            new BatchingSettings(
                batching.MaxBatchSize, batching.MaxQueueDelay, batching.MaxQueueSize, batching.RequestTimeout, decodingRows, reservedRows,
                batching.EffectiveBeamSearchDeferral),
            package.ManifestInferred ? "inferred" : ModelPackageLoader.ManifestFile,
            InferredManifest.Serialize(package.Manifest),
            package.Fusion is null ? ModelKind.Captioning : ModelKind.Both,
            package.Dtype,
            package.Decoder.ExplainsCaptions,
            package.Fusion?.ExplainsScores ?? false,
            package.Decoder.DecoderState);

        _metrics.ObserveQueueDepths(QueueDepths);
        _metrics.ObserveModelInfo(package.Identity.Name, package.Identity.Version, package.ProviderName);
    }

    public ModelInfo Model { get; }

    public bool IsWarm => _warm;

    /// <summary>Loads and validates the package and creates one session per graph.</summary>
    /// <exception cref="ModelPackageException">A package file is missing, corrupt or inconsistent; the message names it.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA was required but cannot be loaded.</exception>
    public static CaptionEngine Create(ModelOptions model, BatchingOptions batching, PreprocessingOptions preprocessing, ILoggerFactory loggerFactory) =>
        Create(model, batching, preprocessing, loggerFactory, executors: null);

    /// <summary>As <see cref="Create(ModelOptions, BatchingOptions, PreprocessingOptions, ILoggerFactory)"/>, with each stage's executor wrapped by <paramref name="executors"/>.</summary>
    internal static CaptionEngine Create(
        ModelOptions model, BatchingOptions batching, PreprocessingOptions preprocessing, ILoggerFactory loggerFactory, IBatchExecutorDecorator? executors)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batching);
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var package = ModelPackageLoader.Load(model, loggerFactory.CreateLogger("CaptionService.Inference.ModelPackage"), batching.JoinRunningBatches);
        try
        {
            return new CaptionEngine(package, batching, preprocessing, loggerFactory, executors);
        }
        catch
        {
            package.Dispose();
            throw;
        }
    }

    public IReadOnlyList<string> StuckStages => [.. StageStates().Where(state => state.Stuck).Select(state => state.Stage)];

    /// <summary>
    /// Sends one synthetic image through every stage (decode, preprocess, encode, a two-token
    /// caption and, when the package has one, a score), so that sessions, ImageSharp and the JIT
    /// are warm before readiness turns true.
    /// </summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var image = SyntheticPng(Model.ImageWidth, Model.ImageHeight);
        await CaptionAsync(image, new GenerationOptions { MaxTokens = Math.Min(2, Model.MaxTokens) }, cancellationToken);
        if (_scoreBatcher is not null)
        {
            await ScoreAsync(image, ["warm up"], cancellationToken);
        }

        _warm = true;
        var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        CaptionEngineLog.WarmedUp(_logger, elapsedMs);
    }

    public async Task<CaptionResult> CaptionAsync(ReadOnlyMemory<byte> encodedImage, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var verify = options.Verify == true;
        if (verify && _scoreBatcher is null)
        {
            throw new InferenceRejectedException(RejectionReason.InvalidOption,
                $"The model package '{_package.Identity.Name}' has no fusion graph, so it cannot verify captions (verify).");
        }

        var explain = options.Explain == true;
        if (explain && !_package.Decoder.ExplainsCaptions)
        {
            throw ExplanationRefusals.NoCaptionOutputs(_package.Identity.Name);
        }

        _gate.Enter();
        try
        {
            var started = Stopwatch.GetTimestamp();
            var deadline = DeadlineFrom(started);
            var (searchOptions, returned) = verify ? VerifiedSearch(options) : (options, int.MaxValue);
            var plan = GenerationPlan.Create(
                searchOptions, _package.MaxNewTokens, _package.Generation.DecoderStartTokenId, _package.Generation.EosTokenId, _package.GenerationDefaults);
            using var pixels = _preprocessor.Preprocess(encodedImage);
            var preprocessTime = Stopwatch.GetElapsedTime(started);

            var encoded = await _encodeBatcher.EnqueueAsync(new EncodeJob(pixels, ForCaption: true, ForBeamSearch: plan.Beams > 1), deadline, cancellationToken);
            using var encoderState = encoded.Value;
            var generated = await _captionBatcher.EnqueueAsync(new CaptionJob(encoderState, plan), deadline, cancellationToken);
            var queueTime = encoded.QueueTime + generated.QueueTime;
            var executionTime = encoded.ExecutionTime + generated.ExecutionTime;

            // Trimmed, as transformers.js's image-to-text pipeline and the usual transformers recipe
            // do: a GPT-2 caption's first token carries the space that precedes a word.
            var candidates = generated.Value
                .Select(sequence => (Alternative: new CaptionAlternative(_package.Tokenizer.Decode(sequence.Tokens).Trim(), sequence.LogProb, sequence.Score), Sequence: sequence))
                .ToList();
            double? verification = null;
            if (verify)
            {
                var scored = await VerifyAsync(encoderState, candidates, deadline, cancellationToken);
                queueTime += scored.QueueTime;
                executionTime += scored.ExecutionTime;
                candidates = [.. scored.Value.Take(returned)];
                verification = candidates[0].Alternative.FusionScore;
            }

            var best = candidates[0];
            IReadOnlyList<WordAttention>? explanation = null;
            if (explain)
            {
                // On the request's thread, after its batches: one decoder run for this caption alone.
                var explaining = Stopwatch.GetTimestamp();
                explanation = CaptionExplainer.Explain(
                    _package.Decoder, _package.Tokenizer, encoderState, _package.Generation.DecoderStartTokenId, best.Sequence.Tokens);
                executionTime += Stopwatch.GetElapsedTime(explaining);
            }

            return new CaptionResult(
                best.Alternative.Caption,
                best.Sequence.Confidence,
                [.. candidates.Select(c => c.Alternative)],
                _package.Identity,
                TimingsOf(started, preprocessTime, queueTime, executionTime) with { CaptionQueueMs = generated.QueueTime.TotalMilliseconds },
                verification,
                DistanceOf(encoderState),
                RepetitionCheck.Find(best.Alternative.Caption),
                explanation);
        }
        finally
        {
            _gate.Exit();
        }
    }

    public IReadOnlyList<string> UnknownWords(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _package.Tokenizer.UnknownWords(text);
    }

    public Task<ScoreResult> ScoreAsync(ReadOnlyMemory<byte> encodedImage, IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        ScoreAsync(encodedImage, texts, explain: false, cancellationToken);

    public async Task<ScoreResult> ScoreAsync(ReadOnlyMemory<byte> encodedImage, IReadOnlyList<string> texts, bool explain, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (_scoreBatcher is null)
        {
            throw new InferenceRejectedException(RejectionReason.NotSupportedByModel,
                $"The model package '{_package.Identity.Name}' has no fusion graph, so it cannot score texts.");
        }

        if (texts.Count is < 1 or > MaxTextsPerRequest)
        {
            throw new InferenceRejectedException(RejectionReason.InvalidOption,
                $"Send between 1 and {MaxTextsPerRequest} texts; got {texts.Count}.");
        }

        if (explain && !_package.Fusion!.ExplainsScores)
        {
            throw ExplanationRefusals.NoScoreOutputs(_package.Identity.Name);
        }

        _gate.Enter();
        try
        {
            var started = Stopwatch.GetTimestamp();
            var deadline = DeadlineFrom(started);
            var tokenized = ScoringTexts.Encode(_package.Tokenizer, texts);
            using var pixels = _preprocessor.Preprocess(encodedImage);
            var preprocessTime = Stopwatch.GetElapsedTime(started);

            var encoded = await _encodeBatcher.EnqueueAsync(new EncodeJob(pixels), deadline, cancellationToken);
            using var encoderState = encoded.Value;
            var scored = await _scoreBatcher.EnqueueAsync(new ScoreJob(encoderState, tokenized), deadline, cancellationToken);

            var executionTime = encoded.ExecutionTime + scored.ExecutionTime;
            AttentionMap[]? evidence = null;
            if (explain)
            {
                // On the request's thread, after its batches: one fusion run of the explanation outputs.
                var explaining = Stopwatch.GetTimestamp();
                evidence = ScoreExplainer.Explain(_package.Fusion!, encoderState, tokenized, _package.Tokenizer.PaddingId);
                executionTime += Stopwatch.GetElapsedTime(explaining);
            }

            var scores = texts.Select((text, i) => new TextScore(text, scored.Value[i], _package.Tokenizer.UnknownWords(text), Evidence: evidence?[i])).ToArray();
            return new ScoreResult(
                scores,
                _package.Identity,
                TimingsOf(started, preprocessTime, encoded.QueueTime + scored.QueueTime, executionTime),
                DistanceOf(encoderState));
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>
    /// The search a verified caption runs: the requested beams (else <see cref="GenerationOptions.VerifyBeams"/>),
    /// every candidate kept for the fusion graph; and how many of them the answer returns.
    /// </summary>
    private static (GenerationOptions Search, int Returned) VerifiedSearch(GenerationOptions options)
    {
        if (options.Beams is null && (options.Temperature is not null || options.TopK is not null || options.TopP is not null))
        {
            throw new InferenceRejectedException(RejectionReason.InvalidOption,
                $"verify searches {GenerationOptions.VerifyBeams} beams unless beams is given, and sampling (temperature, topK, topP) cannot be combined with beam search; give beams=1 to verify a sampled caption.");
        }

        var beams = options.Beams ?? GenerationOptions.VerifyBeams;
        if (options.Alternatives is { } asked && (asked < 1 || asked > beams))
        {
            throw new InferenceRejectedException(RejectionReason.InvalidOption, $"alternatives must be between 1 and beams ({beams}); got {asked}.");
        }

        return (options with { Beams = beams, Alternatives = beams }, options.Alternatives ?? beams);
    }

    /// <summary>
    /// Scores every candidate with the fusion graph (one score job) and orders them by
    /// <see cref="CaptionVerification.RankScore"/>. A candidate repeated in the n-best is kept once;
    /// one too long for the fusion graph gets no fusion score and ranks after the scored ones.
    /// </summary>
    private async Task<(List<(CaptionAlternative Alternative, GeneratedSequence Sequence)> Value, TimeSpan QueueTime, TimeSpan ExecutionTime)> VerifyAsync(
        EncoderState encoderState,
        List<(CaptionAlternative Alternative, GeneratedSequence Sequence)> candidates,
        long deadline,
        CancellationToken cancellationToken)
    {
        var distinct = candidates.DistinctBy(c => c.Alternative.Caption, StringComparer.Ordinal).ToList();
        var scorable = new List<int>();
        var tokenized = new List<long[]>();
        for (var i = 0; i < distinct.Count; i++)
        {
            try
            {
                tokenized.Add(_package.Tokenizer.EncodeForScoring(distinct[i].Alternative.Caption));
                scorable.Add(i);
            }
            catch (InferenceRejectedException)
            {
                // Empty or longer than the fusion graph reads: left unscored.
            }
        }

        if (tokenized.Count == 0)
        {
            return (distinct, TimeSpan.Zero, TimeSpan.Zero);
        }

        var scored = await _scoreBatcher!.EnqueueAsync(new ScoreJob(encoderState, tokenized), deadline, cancellationToken);
        for (var k = 0; k < scorable.Count; k++)
        {
            var (alternative, sequence) = distinct[scorable[k]];
            distinct[scorable[k]] = (alternative with { FusionScore = scored.Value[k] }, sequence);
        }

        var ranked = distinct
            .OrderByDescending(c => c.Alternative.FusionScore is { } p
                ? CaptionVerification.RankScore(p, c.Sequence.LogProb, c.Sequence.Tokens.Length)
                : double.NegativeInfinity)
            .ToList();
        return (ranked, scored.QueueTime, scored.ExecutionTime);
    }

    /// <summary>The image's distance from the package's calibration scenes, when it has them.</summary>
    private ImageDistance? DistanceOf(EncoderState state) =>
        _package.SceneStatistics is { } statistics
            ? new ImageDistance(statistics.Distance(ImageFeatures.Of(state)), statistics.Threshold)
            : null;

    /// <summary>Stops accepting requests (they get <see cref="RejectionReason.Unavailable"/>), lets admitted ones finish, then releases the sessions.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _warm = false;
        await _gate.DrainAsync(_logger);
        await _encodeBatcher.DisposeAsync();
        await _captionBatcher.DisposeAsync();
        if (_scoreBatcher is not null)
        {
            await _scoreBatcher.DisposeAsync();
        }

        _package.Dispose();
        _metrics.Dispose();
        CaptionEngineLog.Stopped(_logger);
    }

    private long DeadlineFrom(long startedTimestamp) =>
        startedTimestamp + (long)(_requestTimeout.TotalSeconds * Stopwatch.Frequency);

    private static Timings TimingsOf(long started, TimeSpan preprocess, TimeSpan queue, TimeSpan inference) =>
        new(queue.TotalMilliseconds, preprocess.TotalMilliseconds, inference.TotalMilliseconds, Stopwatch.GetElapsedTime(started).TotalMilliseconds);

    private IEnumerable<(string Stage, bool Stuck)> StageStates()
    {
        yield return (EncodeStage, _encodeBatcher.IsStuck);
        yield return (CaptionStage, _captionBatcher.IsStuck);
        if (_scoreBatcher is not null)
        {
            yield return (ScoreStage, _scoreBatcher.IsStuck);
        }
    }

    private IEnumerable<(string Stage, int Depth)> QueueDepths()
    {
        yield return (EncodeStage, _encodeBatcher.QueueDepth);
        yield return (CaptionStage, _captionBatcher.QueueDepth);
        if (_scoreBatcher is not null)
        {
            yield return (ScoreStage, _scoreBatcher.QueueDepth);
        }
    }

    private static byte[] SyntheticPng(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(128, 128, 128));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}
