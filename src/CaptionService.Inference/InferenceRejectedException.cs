namespace CaptionService.Inference;

/// <summary>Why the engine refused a request. The host maps each reason to one HTTP status.</summary>
public enum RejectionReason
{
    /// <summary>An option is out of range or inconsistent (400).</summary>
    InvalidOption,

    /// <summary>A text is longer than the model accepts (400).</summary>
    TextTooLong,

    /// <summary>The encoded image is larger than <c>MaxImageBytes</c> (413).</summary>
    ImageTooLarge,

    /// <summary>The bytes are not an image format the server decodes (415).</summary>
    UnsupportedImageFormat,

    /// <summary>The image is undecodable, or its dimensions are out of bounds (422).</summary>
    UnprocessableImage,

    /// <summary>The loaded model cannot do what was asked: captioning with a CLIP package, scoring without a fusion graph (404).</summary>
    NotSupportedByModel,

    /// <summary>The batch queue is full (429).</summary>
    QueueFull,

    /// <summary>Other images being decoded leave no room for this one's pixels within <c>MaxDecodingPixelsInFlight</c> (503).</summary>
    DecodingBusy,

    /// <summary>The request's deadline passed before it ran (503).</summary>
    DeadlineExceeded,

    /// <summary>The engine is not warm yet, or is shutting down (503).</summary>
    Unavailable,

    /// <summary>
    /// The request ran in a batch that did not answer it within <c>BatchTimeout</c>, and was
    /// abandoned (503): the model is hung or far slower than it should be.
    /// </summary>
    ExecutionTimedOut,
}

/// <summary>
/// A request the engine will not run, for a reason the client caused or that overload caused.
/// The message is written for the client: it says what was wrong and, where there is one, the limit.
/// </summary>
public sealed class InferenceRejectedException : Exception
{
    public InferenceRejectedException(RejectionReason reason, string message, TimeSpan? retryAfter = null)
        : base(message)
    {
        Reason = reason;
        RetryAfter = retryAfter;
    }

    public InferenceRejectedException()
    {
    }

    public InferenceRejectedException(string message)
        : base(message)
    {
    }

    public InferenceRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RejectionReason Reason { get; }

    /// <summary>When to try again, for <see cref="RejectionReason.QueueFull"/>, <see cref="RejectionReason.Unavailable"/> and <see cref="RejectionReason.ExecutionTimedOut"/>.</summary>
    public TimeSpan? RetryAfter { get; }
}
