using System.Diagnostics.Metrics;

namespace CaptionService.Benchmarks;

/// <summary>
/// Listens to the engine's own <c>batch.size</c> histogram, so that each
/// measurement can prove the batches really had the size it claims.
/// </summary>
internal sealed class BatchSizeListener : IDisposable
{
    private const string MeterName = "CaptionService";
    private const string InstrumentName = "batch.size";
    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (long Batches, long Requests)> _byStage = new(StringComparer.Ordinal);
    private bool _seen;

    public BatchSizeListener()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MeterName && instrument.Name == InstrumentName)
            {
                _seen = true;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>Average requests per batch for each stage since the last call, then starts afresh.</summary>
    public IReadOnlyDictionary<string, double> TakeAverages()
    {
        if (!_seen)
        {
            throw new InvalidOperationException($"the engine published no {MeterName}/{InstrumentName} histogram");
        }

        lock (_lock)
        {
            var averages = _byStage.ToDictionary(kv => kv.Key, kv => (double)kv.Value.Requests / kv.Value.Batches, StringComparer.Ordinal);
            _byStage.Clear();
            return averages;
        }
    }

    private void OnMeasurement(Instrument instrument, int value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        var stage = "unknown";
        foreach (var tag in tags)
        {
            if (tag.Key == "stage")
            {
                stage = tag.Value?.ToString() ?? "unknown";
            }
        }

        lock (_lock)
        {
            _byStage.TryGetValue(stage, out var current);
            _byStage[stage] = (current.Batches + 1, current.Requests + value);
        }
    }

    public void Dispose() => _listener.Dispose();
}
