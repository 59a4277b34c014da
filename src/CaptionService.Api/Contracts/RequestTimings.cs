using System.Text.Json.Serialization;
using CaptionService.Inference;

namespace CaptionService.Api.Contracts;

/// <summary>Where one request's time went on the server, in milliseconds.</summary>
public sealed class RequestTimings
{
    /// <summary>Time spent waiting in the batch queues.</summary>
    /// <example>1.4</example>
    public required double QueueMs { get; init; }

    /// <summary>
    /// Captions only: the part of <c>queueMs</c> between the image's encoding and the first
    /// decoder step (with continuous batching, at most about one decoder step while slots are free).
    /// </summary>
    /// <example>0.3</example>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? CaptionQueueMs { get; init; }

    /// <summary>Decoding, resizing and normalising the image, and tokenizing texts.</summary>
    /// <example>2.1</example>
    public required double PreprocessMs { get; init; }

    /// <summary>Running the model graphs (this request's share of its batches).</summary>
    /// <example>18.6</example>
    public required double InferenceMs { get; init; }

    /// <summary>From the engine receiving the image to the answer.</summary>
    /// <example>22.3</example>
    public required double TotalMs { get; init; }

    internal static RequestTimings From(Timings timings) => new()
    {
        QueueMs = timings.QueueMs,
        CaptionQueueMs = timings.CaptionQueueMs,
        PreprocessMs = timings.PreprocessMs,
        InferenceMs = timings.InferenceMs,
        TotalMs = timings.TotalMs,
    };
}
