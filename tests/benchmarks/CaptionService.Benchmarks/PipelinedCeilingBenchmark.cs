using System.Diagnostics;
using CaptionService.Inference;

namespace CaptionService.Benchmarks;

/// <summary>One measured client count of the pipelined engine ceiling.</summary>
internal sealed record PipelinedPoint(
    int Clients,
    IReadOnlyList<double> ImagesPerSecondRuns,
    Statistics ImagesPerSecond,
    Statistics LatencyMs,
    IReadOnlyDictionary<string, double> AverageBatchSizeByStage);

/// <summary>
/// Caption images per second of the engine in-process with its stages pipelined as the service
/// runs them: <c>Clients</c> callers each send their next request the moment the previous one is
/// answered, into an engine with the service's default batching (continuous batching included),
/// so the encoder works on new images while captions decode. What it leaves out of the service is
/// HTTP; what it adds over <see cref="CeilingBenchmark"/>'s rounds is that no stage waits for a
/// round's slowest request. The engine ceiling is the best of both.
/// </summary>
internal sealed class PipelinedCeilingBenchmark(ICaptionEngine engine, SharedWorkload workload, BatchSizeListener batches, int? maxTokens = null)
{
    private readonly GenerationOptions _captionOptions = GenerationOptions.Greedy with { MaxTokens = maxTokens };
    private int _next;

    /// <summary>
    /// One continuous load: the clients keep sending through the warm-up and every timed run, so
    /// no run starts with empty stages; a run counts the answers that arrive within its window.
    /// </summary>
    public async Task<PipelinedPoint> MeasureAsync(int clients, BenchmarkSettings settings)
    {
        // At least one window of warm-up: the stages must be full when timing starts, and a
        // real-size caption alone takes seconds.
        var warmUp = TimeSpan.FromSeconds(Math.Max(settings.WarmUpSeconds, settings.RunSeconds));
        var window = TimeSpan.FromSeconds(settings.RunSeconds);
        var end = warmUp + (settings.Runs * window);
        var answers = new List<(TimeSpan At, double LatencyMs)>[clients];
        var clock = Stopwatch.StartNew();
        var measuring = false;

        async Task ClientAsync(int client)
        {
            answers[client] = [];
            while (clock.Elapsed < end)
            {
                var index = Interlocked.Increment(ref _next) % workload.Images.Count;
                var sent = clock.Elapsed;
                await engine.CaptionAsync(workload.Images[index], _captionOptions).ConfigureAwait(false);
                var at = clock.Elapsed;
                answers[client].Add((at, (at - sent).TotalMilliseconds));
                if (!Volatile.Read(ref measuring) && at >= warmUp)
                {
                    Volatile.Write(ref measuring, true);
                    batches.TakeAverages(); // the batch sizes of the timed runs only
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(() => ClientAsync(client)))).ConfigureAwait(false);
        var averages = batches.TakeAverages();
        var timed = answers.SelectMany(a => a).Where(a => a.At >= warmUp && a.At < end).ToList();
        var runs = Enumerable.Range(0, settings.Runs)
            .Select(r => timed.Count(a => a.At >= warmUp + (r * window) && a.At < warmUp + ((r + 1) * window)) / window.TotalSeconds)
            .ToList();
        if (timed.Count == 0)
        {
            throw new InvalidOperationException($"pipelined ceiling, {clients} clients: no answer within the timed runs; lengthen --run-seconds");
        }

        return new PipelinedPoint(clients, runs, Statistics.Of(runs), Statistics.Of([.. timed.Select(a => a.LatencyMs)]), averages);
    }
}
