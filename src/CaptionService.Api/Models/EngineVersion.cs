using CaptionService.Inference;

namespace CaptionService.Api.Models;

/// <summary>
/// One loaded version of a model's package, reference counted so that a reload can swap it out
/// while requests still run on it: the model holds one reference while the version is current,
/// each request one while it runs, and the engine is disposed when the last is released.
/// </summary>
internal sealed class EngineVersion(ICaptionEngine engine, PackageFingerprint fingerprint)
{
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _references = 1;
    private int _disposing;

    public ICaptionEngine Engine => engine;

    /// <summary>The package files this version was loaded from.</summary>
    public PackageFingerprint Fingerprint => fingerprint;

    /// <summary>Completes once the engine has been disposed.</summary>
    public Task Disposed => _disposed.Task;

    /// <summary>Takes a reference unless the version is already released by all; pair every true with <see cref="Release"/>.</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            var references = Volatile.Read(ref _references);
            if (references == 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _references, references + 1, references) == references)
            {
                return true;
            }
        }
    }

    /// <summary>Drops a reference; the last one disposes the engine, on the thread pool.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _ = Task.Run(DisposeEngineAsync);
        }
    }

    /// <summary>Disposes the engine now, whatever holds it (shutdown: the engine itself waits for what it runs). Idempotent.</summary>
    public async Task DisposeEngineAsync()
    {
        if (Interlocked.Exchange(ref _disposing, 1) == 1)
        {
            await _disposed.Task;
            return;
        }

        try
        {
            switch (engine)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
        finally
        {
            _disposed.TrySetResult();
        }
    }
}
