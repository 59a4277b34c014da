namespace CaptionService.Inference;

/// <summary>
/// Counts an engine's admitted requests so that shutdown can drain them: after
/// <see cref="DrainAsync"/> new requests are refused with <see cref="RejectionReason.Unavailable"/>,
/// and its task completes when the last admitted one leaves.
/// </summary>
internal sealed class RequestGate
{
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;
    private volatile bool _draining;

    /// <exception cref="InferenceRejectedException">The engine is draining.</exception>
    public void Enter()
    {
        Interlocked.Increment(ref _inFlight);
        if (_draining)
        {
            Exit();
            throw new InferenceRejectedException(RejectionReason.Unavailable, "The server is shutting down and accepts no new requests.");
        }
    }

    public void Exit()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && _draining)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>Refuses new requests from now on, logs how many are still in flight, and waits for them to leave.</summary>
    public Task DrainAsync(Microsoft.Extensions.Logging.ILogger logger)
    {
        _draining = true;
        var inFlight = Volatile.Read(ref _inFlight);
        if (inFlight == 0)
        {
            _drained.TrySetResult();
        }
        else
        {
            CaptionEngineLog.Draining(logger, inFlight);
        }

        return _drained.Task;
    }
}
