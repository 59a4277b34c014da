namespace CaptionService.Api.Draining;

/// <summary>
/// Counts the inference requests in flight and, once draining has begun, refuses new ones and
/// tells when the last one has finished.
/// </summary>
/// <remarks>
/// <see cref="TryEnter"/> increments before it reads the flag, and <see cref="BeginDrainAsync"/>
/// sets the flag (a full fence) before it reads the count, so a request is either counted by the
/// drain or refused: none slips in unseen.
/// </remarks>
internal sealed class RequestDrain
{
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;
    private int _draining;

    public bool IsDraining => Volatile.Read(ref _draining) == 1;

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Admits a request, unless the server is draining. Every true must be paired with <see cref="Exit"/>.</summary>
    public bool TryEnter()
    {
        Interlocked.Increment(ref _inFlight);
        if (IsDraining)
        {
            Exit();
            return false;
        }

        return true;
    }

    public void Exit()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && IsDraining)
        {
            _idle.TrySetResult();
        }
    }

    /// <summary>Stops admitting requests; the task completes when none is left in flight.</summary>
    public Task BeginDrainAsync()
    {
        Interlocked.Exchange(ref _draining, 1);
        if (Volatile.Read(ref _inFlight) == 0)
        {
            _idle.TrySetResult();
        }

        return _idle.Task;
    }
}
