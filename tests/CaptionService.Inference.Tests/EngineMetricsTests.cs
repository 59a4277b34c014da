using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests;

/// <summary>The engine publishes its instruments on the agreed meter, tagged by stage.</summary>
public sealed class EngineMetricsTests : IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly ConcurrentBag<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = [];

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task ACaptionRecordsQueueTimeBatchSizeAndInferenceTimePerStageAndTheGaugesReport()
    {
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == EngineMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        listener.Start();
        await using var engine = CaptionEngine.Create(
            new ModelOptions { Path = TestPaths.DefaultPackage, ExecutionProvider = ExecutionProviderKind.Cpu },
            new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance);
        var image = File.ReadAllBytes(Path.Combine(TestPaths.Fixtures, "parity", "shapeworld-fusion", "image-0.png"));

        await engine.CaptionAsync(image, new GenerationOptions { MaxTokens = 2 }, _timeout.Token);
        listener.RecordObservableInstruments();

        foreach (var stage in new[] { "encode", "caption" })
        {
            Assert.Contains(_measurements, m => m.Instrument == "batch.size" && Equals(m.Tags["stage"], stage) && m.Value >= 1);
            Assert.Contains(_measurements, m => m.Instrument == "queue.time" && Equals(m.Tags["stage"], stage));
            Assert.Contains(_measurements, m => m.Instrument == "inference.time" && Equals(m.Tags["stage"], stage) && m.Value > 0);
        }

        Assert.Contains(_measurements, m => m.Instrument == "queue.depth" && Equals(m.Tags["stage"], "score"));
        Assert.Contains(_measurements, m => m.Instrument == "model.info" && m.Value == 1
            && Equals(m.Tags["name"], "shapeworld-fusion") && Equals(m.Tags["provider"], "cpu"));
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
}
