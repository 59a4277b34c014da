using System.Diagnostics;

namespace CaptionService.Inference;

/// <summary>
/// The engine's spans, on the <see cref="SourceName"/> activity source: a request's wait in each
/// stage's queue (a child of the request's span), one span per executed batch (linked to the spans
/// of the requests it served), and one per decoder step inside a caption batch.
/// </summary>
public static class EngineTracing
{
    public const string SourceName = "CaptionService.Engine";

    internal static readonly ActivitySource Source = new(SourceName);

    /// <summary>Records the time a request waited in <paramref name="stage"/>'s queue, ending now.</summary>
    internal static void QueueWait(string stage, ActivityContext request, TimeSpan waited)
    {
        if (request == default || !Source.HasListeners())
        {
            return;
        }

        using var activity = Source.StartActivity($"queue {stage}", ActivityKind.Internal, request, startTime: DateTimeOffset.UtcNow - waited);
        activity?.SetTag("captionservice.stage", stage);
    }

    /// <summary>A batch's span: a root of its own, linked to the requests it starts with.</summary>
    internal static Activity? Batch(string stage, IEnumerable<ActivityContext> requests) =>
        Source.HasListeners()
            ? Source.StartActivity(
                $"batch {stage}",
                ActivityKind.Internal,
                parentContext: default,
                tags: [new("captionservice.stage", stage)],
                links: [.. requests.Where(context => context != default).Select(context => new ActivityLink(context))])
            : null;
}
