using Prometheus;

namespace CaptionService.Api.Models;

/// <summary><c>captionservice_model_reloads_total</c> and <c>captionservice_model_reload_duration_seconds</c>, by model.</summary>
internal static class ModelReloadMetrics
{
    private static readonly Counter Reloads = Metrics.CreateCounter(
        "captionservice_model_reloads_total",
        "Reload attempts of a model's package, by result: swapped (a new version serves) or refused (the old one still serves).",
        new CounterConfiguration { LabelNames = ["model", "result"] });

    private static readonly Histogram Duration = Metrics.CreateHistogram(
        "captionservice_model_reload_duration_seconds",
        "Time to load, validate and warm up a new version of a model's package, in seconds.",
        new HistogramConfiguration { LabelNames = ["model"], Buckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });

    public static void Record(string model, ReloadOutcome outcome)
    {
        Reloads.WithLabels(model, outcome.Succeeded ? "swapped" : "refused").Inc();
        Duration.WithLabels(model).Observe(outcome.Duration.TotalSeconds);
    }
}
