using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CaptionService.Inference;
using Prometheus;

namespace CaptionService.Api.Observability;

/// <summary>
/// Publishes the engine's meter (<see cref="EngineMetrics"/>) as Prometheus histograms and gauges
/// named <c>captionservice_&lt;instrument&gt;</c>, with the instrument's description as HELP.
/// prometheus-net's own MeterAdapter would append .NET type names such as <c>(Histogram`1)</c>
/// to every HELP text. One listener per process, as the default registry is one per process.
/// </summary>
internal sealed class EngineMeterExporter : IDisposable
{
    private const string Prefix = "captionservice_";

    private static readonly double[] MillisecondBuckets = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
    private static readonly double[] CountBuckets = [1, 2, 4, 8, 16, 32, 64, 128];
    private static readonly Lazy<EngineMeterExporter> Instance = new(() => new EngineMeterExporter(Metrics.DefaultRegistry));

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Action<double, ReadOnlySpan<KeyValuePair<string, object?>>>> _sinks = new();

    private EngineMeterExporter(CollectorRegistry registry)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EngineMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();

        // Observable gauges (queue depth, model info) are read when Prometheus scrapes.
        registry.AddBeforeCollectCallback(_listener.RecordObservableInstruments);
    }

    /// <summary>Starts the process's exporter once; later calls do nothing.</summary>
    public static void EnsureStarted() => _ = Instance.Value;

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!_sinks.TryGetValue(instrument, out var sink))
        {
            // Label names are the tag keys of the first measurement: an instrument always sends the same keys.
            var labelNames = new string[tags.Length];
            for (var i = 0; i < tags.Length; i++)
            {
                labelNames[i] = tags[i].Key;
            }

            sink = _sinks.GetOrAdd(instrument, i => CreateSink(i, labelNames));
        }

        sink(value, tags);
    }

    private static Action<double, ReadOnlySpan<KeyValuePair<string, object?>>> CreateSink(Instrument instrument, string[] labelNames)
    {
        var name = Prefix + instrument.Name.Replace('.', '_');
        var help = instrument.Description ?? instrument.Name;
        if (instrument is ObservableInstrument<int> or ObservableInstrument<double>)
        {
            var gauge = Metrics.CreateGauge(name, help, labelNames);
            return (value, tags) => gauge.WithLabels(LabelValues(tags)).Set(value);
        }

        var buckets = instrument.Unit == "ms" ? MillisecondBuckets : CountBuckets;
        var histogram = Metrics.CreateHistogram(name, help, new HistogramConfiguration { LabelNames = labelNames, Buckets = buckets });
        return (value, tags) => histogram.WithLabels(LabelValues(tags)).Observe(value);
    }

    private static string[] LabelValues(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var values = new string[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            values[i] = tags[i].Value?.ToString() ?? string.Empty;
        }

        return values;
    }
}
