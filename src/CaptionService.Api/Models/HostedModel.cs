using System.Diagnostics;
using CaptionService.Api.Observability;
using CaptionService.Inference;

namespace CaptionService.Api.Models;

/// <summary>
/// One named model of the server: the version of its package now serving, and its reloads. It is
/// an <see cref="ICaptionEngine"/> whose every call runs on the version current when the call
/// began, holding a reference to it, so that a reload swaps versions without failing or moving a
/// request in flight; the old version is disposed after its last request.
/// </summary>
internal sealed partial class HostedModel : ICaptionEngine, IDisposable
{
    private readonly ModelOptions _options;
    private readonly IModelEngineFactory _factory;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _reloadLock = new(1, 1);
    private readonly List<EngineVersion> _retired = [];
    private EngineVersion? _current;
    private volatile string? _failure;
    private volatile ReloadOutcome? _lastReload;
    private int _reloads;

    // The files of the latest attempt that failed, so that the same broken files are not retried
    // on every poll; null once a version loaded from the files now serves.
    private PackageFingerprint? _failedFingerprint;

    public HostedModel(string name, ModelOptions options, IModelEngineFactory factory, ILogger logger)
    {
        Name = name;
        _options = options;
        _factory = factory;
        _logger = logger;
    }

    public string Name { get; }

    /// <summary>The package directory.</summary>
    public string Directory => Path.GetFullPath(_options.Path);

    public ModelState State => Volatile.Read(ref _current) switch
    {
        null => _failure is null ? ModelState.Loading : ModelState.Failed,
        var version => version.Engine.IsWarm ? ModelState.Ready : ModelState.Loading,
    };

    /// <summary>Why no version serves (state <see cref="ModelState.Failed"/>); null otherwise.</summary>
    public string? Failure => Volatile.Read(ref _current) is null ? _failure : null;

    /// <summary>The latest reload attempt; null before the first.</summary>
    public ReloadOutcome? LastReload => _lastReload;

    /// <summary>How many times a new version was swapped in.</summary>
    public int Reloads => Volatile.Read(ref _reloads);

    /// <summary>The serving version's description; null while none serves.</summary>
    public ModelInfo? Info => Volatile.Read(ref _current)?.Engine.Model;

    public ModelInfo Model => Info ?? throw NotServing();

    public bool IsWarm => Volatile.Read(ref _current)?.Engine.IsWarm == true;

    /// <summary>The serving version's stages whose running batch is past the batch timeout (see <see cref="ICaptionEngine.StuckStages"/>).</summary>
    public IReadOnlyList<string> StuckStages => Volatile.Read(ref _current)?.Engine.StuckStages ?? [];

    /// <summary>Loads the first version at start-up; false (and <see cref="Failure"/> says why) when it cannot.</summary>
    public bool TryLoad(out Exception? error)
    {
        var fingerprint = PackageFingerprint.Of(Directory);
        try
        {
            Volatile.Write(ref _current, new EngineVersion(CreateEngine(), fingerprint));
            error = null;
            return true;
        }
        catch (Exception e)
        {
            // Whatever the package does wrong, it is this model's failure, not the server's.
            _failure = e.Message;
            _failedFingerprint = fingerprint;
            error = e;
            return false;
        }
    }

    /// <summary>Warms up the version loaded at start-up. A failure is thrown after the model is marked failed.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _current) is not { } version)
        {
            return;
        }

        try
        {
            await version.Engine.WarmUpAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _failure = "Warm-up failed: " + e.Message;
            _failedFingerprint = version.Fingerprint;
            if (Interlocked.CompareExchange(ref _current, null, version) == version)
            {
                version.Release();
            }

            throw;
        }
    }

    /// <summary>
    /// Loads the package as it now is on disk beside the serving version, validates it (the
    /// loader's sha256 and graph checks) and warms it up, then swaps it in. A version that fails
    /// any step is disposed, and the serving one stays. Without <paramref name="force"/>, a package
    /// whose files did not change since the last attempt is left alone.
    /// </summary>
    /// <returns>The attempt's outcome; null when nothing changed.</returns>
    public async Task<ReloadOutcome?> ReloadAsync(string trigger, bool force, CancellationToken cancellationToken = default)
    {
        await _reloadLock.WaitAsync(cancellationToken);
        try
        {
            var fingerprint = PackageFingerprint.Of(Directory);
            var lastTried = Volatile.Read(ref _current) is { } serving && _failedFingerprint is null ? serving.Fingerprint : _failedFingerprint;
            if (!force && fingerprint == lastTried)
            {
                return null;
            }

            return await LoadNewVersionAsync(trigger, fingerprint, cancellationToken);
        }
        finally
        {
            _reloadLock.Release();
        }
    }

    private async Task<ReloadOutcome> LoadNewVersionAsync(string trigger, PackageFingerprint fingerprint, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        LogReloading(_logger, Name, trigger);
        ICaptionEngine? engine = null;
        try
        {
            engine = await Task.Run(CreateEngine, cancellationToken);
            await engine.WarmUpAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down, or the client that asked went away: the half-made version goes.
            if (engine is not null)
            {
                await new EngineVersion(engine, fingerprint).DisposeEngineAsync();
            }

            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Any failure of a new version, whatever its kind, must leave the serving one alone.
            if (engine is not null)
            {
                await new EngineVersion(engine, fingerprint).DisposeEngineAsync();
            }

            _failedFingerprint = fingerprint;
            if (Volatile.Read(ref _current) is null)
            {
                _failure = e.Message;
            }

            var failed = new ReloadOutcome(DateTimeOffset.UtcNow, trigger, Succeeded: false, e.Message, Stopwatch.GetElapsedTime(started), Info?.Identity.Version);
            _lastReload = failed;
            ModelReloadMetrics.Record(Name, failed);
            LogReloadFailed(_logger, Name, trigger, Info?.Identity.Version ?? "(none)", e.Message);
            return failed;
        }

        var previous = Interlocked.Exchange(ref _current, new EngineVersion(engine, fingerprint));
        _failedFingerprint = null;
        _failure = null;
        Interlocked.Increment(ref _reloads);
        if (previous is not null)
        {
            lock (_retired)
            {
                _retired.RemoveAll(v => v.Disposed.IsCompleted);
                _retired.Add(previous);
            }

            previous.Release();
        }

        var outcome = new ReloadOutcome(DateTimeOffset.UtcNow, trigger, Succeeded: true, null, Stopwatch.GetElapsedTime(started), engine.Model.Identity.Version);
        _lastReload = outcome;
        ModelReloadMetrics.Record(Name, outcome);
        LogReloaded(_logger, Name, previous?.Engine.Model.Identity.Version ?? "(none)", engine.Model.Identity.Version, trigger, outcome.Duration.TotalMilliseconds);
        return outcome;
    }

    /// <summary>Disposes every version at shutdown; each engine finishes what it runs first.</summary>
    public async Task ShutdownAsync()
    {
        var current = Interlocked.Exchange(ref _current, null);
        List<EngineVersion> versions;
        lock (_retired)
        {
            versions = [.. _retired];
        }

        if (current is not null)
        {
            versions.Add(current);
        }

        foreach (var version in versions)
        {
            await version.DisposeEngineAsync();
        }
    }

    /// <summary>Releases the reload lock; the versions are disposed by <see cref="ShutdownAsync"/>.</summary>
    public void Dispose() => _reloadLock.Dispose();

    public async Task<CaptionResult> CaptionAsync(ReadOnlyMemory<byte> encodedImage, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        var version = Acquire();
        try
        {
            return await version.Engine.CaptionAsync(encodedImage, options, cancellationToken);
        }
        finally
        {
            version.Release();
        }
    }

    public Task<ScoreResult> ScoreAsync(ReadOnlyMemory<byte> encodedImage, IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        ScoreAsync(encodedImage, texts, explain: false, cancellationToken);

    public async Task<ScoreResult> ScoreAsync(ReadOnlyMemory<byte> encodedImage, IReadOnlyList<string> texts, bool explain, CancellationToken cancellationToken = default)
    {
        var version = Acquire();
        try
        {
            return await version.Engine.ScoreAsync(encodedImage, texts, explain, cancellationToken);
        }
        finally
        {
            version.Release();
        }
    }

    public IReadOnlyList<string> UnknownWords(string text)
    {
        var version = Acquire();
        try
        {
            return version.Engine.UnknownWords(text);
        }
        finally
        {
            version.Release();
        }
    }

    private ICaptionEngine CreateEngine()
    {
        // The engine's instruments are created inside; the scope gives them this model's label.
        using (EngineMeterModelScope.Enter(Name))
        {
            return _factory.Create(_options);
        }
    }

    /// <summary>The serving version, with a reference the caller releases; retried if a swap retires it meanwhile.</summary>
    private EngineVersion Acquire()
    {
        while (true)
        {
            var version = Volatile.Read(ref _current) ?? throw NotServing();
            if (version.TryAcquire())
            {
                return version;
            }
        }
    }

    private InferenceRejectedException NotServing() => new(
        RejectionReason.Unavailable,
        _failure is { } failure ? $"Model '{Name}' failed to load: {failure}" : $"Model '{Name}' is not loaded.");

    [LoggerMessage(Level = LogLevel.Information, Message = "Reloading model {ModelName} ({Trigger}): loading the new version beside the serving one")]
    private static partial void LogReloading(ILogger logger, string modelName, string trigger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reloaded model {ModelName}: {OldVersion} -> {NewVersion} ({Trigger}) in {ElapsedMs:F0} ms; the old version is disposed after its last request")]
    private static partial void LogReloaded(ILogger logger, string modelName, string oldVersion, string newVersion, string trigger, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reload of model {ModelName} ({Trigger}) refused, version {ServingVersion} keeps serving: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string modelName, string trigger, string servingVersion, string reason);
}
