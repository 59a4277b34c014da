using System.Security.Cryptography;

namespace CaptionService.Inference;

/// <summary>
/// A server fault inside the engine (ONNX Runtime failed a batch, say), as each request of the
/// failed batch receives it. The fault is logged once, with <see cref="ErrorId"/>, where it
/// happened; the host answers 500 quoting the same id, so that a client's report leads to the one
/// log entry that holds the cause.
/// </summary>
public sealed class InferenceFailedException : Exception
{
    public InferenceFailedException(string stage, string errorId, Exception innerException)
        : base($"The {stage} stage failed (error id {errorId}).", innerException)
    {
        Stage = stage;
        ErrorId = errorId;
    }

    public InferenceFailedException()
    {
    }

    public InferenceFailedException(string message)
        : base(message)
    {
    }

    public InferenceFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The batching stage that failed (encode, caption, score).</summary>
    public string Stage { get; } = "";

    /// <summary>The id under which the fault was logged.</summary>
    public string ErrorId { get; } = "";

    /// <summary>A fresh error id: 16 random hex digits, short enough to quote, unique enough to grep for.</summary>
    public static string NewErrorId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
}
