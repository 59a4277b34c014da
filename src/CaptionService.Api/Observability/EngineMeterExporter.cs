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
/// Every series carries a <c>model</c> label: the model whose engine created the instrument
/// (<see cref="EngineMeterModelScope"/>). A gauge's series go when its engine is disposed (a
/// reloaded version's model info does not linger).
/// </summary>
internal sealed class EngineMeterExporter : IDisposable
{
    private const string Prefix = "captionservice_";

    private static readonly double[] MillisecondBuckets = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
    private static readonly double[] CountBuckets = [1, 2, 4, 8, 16, 32, 64, 128];
    private static readonly Lazy<EngineMeterExporter> Instance = new(() => new EngineMeterExporter(Metrics.DefaultRegistry));

    private readonly MeterListener _listener = new();
    private const string ModelLabel = "model";

    private readonly ConcurrentDictionary<Instrument, Action<double, ReadOnlySpan<KeyValuePair<string, object?>>, string>> _sinks = new();
    private readonly ConcurrentDictionary<Instrument, ConcurrentDictionary<string, byte>> _gaugeSeriesOf = new();

    // Which live instruments report each gauge series: two engines may report the same labels
    // (two test servers in one process), and a series goes only when the last of them does.
    private readonly Lock _seriesLock = new();
    private readonly Dictionary<string, (Gauge Gauge, string[] Labels, HashSet<Instrument> Owners)> _gaugeSeries = new(StringComparer.Ordinal);

    private EngineMeterExporter(CollectorRegistry registry)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EngineMetrics.MeterName)
            {
                // The state is the model's name: published inside the engine's constructor, in the host's scope.
                listener.EnableMeasurementEvents(instrument, EngineMeterModelScope.Current ?? string.Empty);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, state) => Record(instrument, value, tags, (string)state!));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, state) => Record(instrument, value, tags, (string)state!));
        _listener.MeasurementsCompleted = (instrument, _) => RemoveGaugeSeries(instrument);
        _listener.Start();

        // Observable gauges (queue depth, model info) are read when Prometheus scrapes.
        registry.AddBeforeCollectCallback(_listener.RecordObservableInstruments);
    }

    /// <summary>Starts the process's exporter once; later calls do nothing.</summary>
    public static void EnsureStarted() => _ = Instance.Value;

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, string model)
    {
        if (!_sinks.TryGetValue(instrument, out var sink))
        {
            // Label names are the tag keys of the first measurement (an instrument always sends the same keys), then the model.
            var labelNames = new string[tags.Length + 1];
            for (var i = 0; i < tags.Length; i++)
            {
                labelNames[i] = tags[i].Key;
            }

            labelNames[^1] = ModelLabel;
            sink = _sinks.GetOrAdd(instrument, i => CreateSink(i, labelNames));
        }

        sink(value, tags, model);
    }

    private Action<double, ReadOnlySpan<KeyValuePair<string, object?>>, string> CreateSink(Instrument instrument, string[] labelNames)
    {
        var name = Prefix + instrument.Name.Replace('.', '_');
        var help = instrument.Description ?? instrument.Name;
        if (instrument is ObservableInstrument<int> or ObservableInstrument<double>)
        {
            var gauge = Metrics.CreateGauge(name, help, labelNames);
            var known = _gaugeSeriesOf.GetOrAdd(instrument, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal));
            return (value, tags, model) =>
            {
                var labels = LabelValues(tags, model);
                var key = name + "\u001f" + string.Join('\u001f', labels);
                if (known.TryAdd(key, 0))
                {
                    AddSeriesOwner(key, gauge, labels, instrument);
                }

                gauge.WithLabels(labels).Set(value);
            };
        }

        var buckets = instrument.Unit == "ms" ? MillisecondBuckets : CountBuckets;
        var histogram = Metrics.CreateHistogram(name, help, new HistogramConfiguration { LabelNames = labelNames, Buckets = buckets });
        return (value, tags, model) => histogram.WithLabels(LabelValues(tags, model)).Observe(value);
    }

    private void AddSeriesOwner(string key, Gauge gauge, string[] labels, Instrument instrument)
    {
        lock (_seriesLock)
        {
            if (!_gaugeSeries.TryGetValue(key, out var series))
            {
                series = (gauge, labels, []);
                _gaugeSeries[key] = series;
            }

            series.Owners.Add(instrument);
        }
    }

    /// <summary>A disposed engine's gauges stop reporting: their last values must not stay exported.</summary>
    private void RemoveGaugeSeries(Instrument instrument)
    {
        _sinks.TryRemove(instrument, out _);
        if (!_gaugeSeriesOf.TryRemove(instrument, out var keys))
        {
            return;
        }

        lock (_seriesLock)
        {
            foreach (var key in keys.Keys)
            {
                if (_gaugeSeries.TryGetValue(key, out var series) && series.Owners.Remove(instrument) && series.Owners.Count == 0)
                {
                    _gaugeSeries.Remove(key);
                    series.Gauge.RemoveLabelled(series.Labels);
                }
            }
        }
    }

    private static string[] LabelValues(ReadOnlySpan<KeyValuePair<string, object?>> tags, string model)
    {
        var values = new string[tags.Length + 1];
        for (var i = 0; i < tags.Length; i++)
        {
            values[i] = tags[i].Value?.ToString() ?? string.Empty;
        }

        values[^1] = model;
        return values;
    }
}
