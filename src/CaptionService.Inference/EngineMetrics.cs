using System.Diagnostics.Metrics;

namespace CaptionService.Inference;

/// <summary>
/// The engine's instruments on the <c>CaptionService</c> meter (exported to Prometheus as <c>captionservice_queue_time</c> and so on). The host exports them
/// (Prometheus); every instrument is tagged with the <c>stage</c> (encode, caption, score).
/// </summary>
internal sealed class EngineMetrics : IDisposable
{
    public const string MeterName = "CaptionService";

    private readonly Meter _meter;
    private readonly Histogram<double> _queueTime;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _inferenceTime;
    private readonly Histogram<double> _decoderStepTime;

    public EngineMetrics()
    {
        _meter = new Meter(MeterName);
        _queueTime = _meter.CreateHistogram<double>("queue.time", unit: "ms",
            description: "Time a request waited in a stage's queue before its batch ran, in milliseconds.");
        _batchSize = _meter.CreateHistogram<int>("batch.size", unit: "{request}",
            description: "Requests in each batch a stage ran.");
        _inferenceTime = _meter.CreateHistogram<double>("inference.time", unit: "ms",
            description: "Time a stage took to run one batch, in milliseconds.");
        _decoderStepTime = _meter.CreateHistogram<double>("decoder.step.time", unit: "ms",
            description: "Time of one caption decoder step (one token for every row of the running batch; requests join between steps), in milliseconds.");
    }

    public void RecordQueueTime(string stage, TimeSpan queueTime) =>
        _queueTime.Record(queueTime.TotalMilliseconds, new KeyValuePair<string, object?>("stage", stage));

    public void RecordBatch(string stage, int batchSize, TimeSpan executionTime)
    {
        var tag = new KeyValuePair<string, object?>("stage", stage);
        _batchSize.Record(batchSize, tag);
        _inferenceTime.Record(executionTime.TotalMilliseconds, tag);
    }

    /// <summary>One caption decoder step: under continuous batching, the unit a request waits in to join.</summary>
    public void RecordDecoderStep(TimeSpan stepTime) =>
        _decoderStepTime.Record(stepTime.TotalMilliseconds, new KeyValuePair<string, object?>("stage", "caption"));

    /// <summary>Reports each stage's queue depth whenever the metrics are collected.</summary>
    public void ObserveQueueDepths(Func<IEnumerable<(string Stage, int Depth)>> depths) =>
        _meter.CreateObservableGauge("queue.depth",
            () => depths().Select(d => new Measurement<int>(d.Depth, new KeyValuePair<string, object?>("stage", d.Stage))),
            unit: "{request}", description: "Requests waiting in each stage's queue.");

    /// <summary>A constant 1 whose tags say which model runs where.</summary>
    public void ObserveModelInfo(string name, string version, string provider) =>
        _meter.CreateObservableGauge("model.info",
            () => new Measurement<int>(1,
                new KeyValuePair<string, object?>("name", name),
                new KeyValuePair<string, object?>("version", version),
                new KeyValuePair<string, object?>("provider", provider)),
            description: "Always 1; the labels name the loaded model package, its version and the execution provider.");

    public void Dispose() => _meter.Dispose();
}
