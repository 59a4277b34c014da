using System.Diagnostics;
using CaptionService.Inference;

namespace CaptionService.Benchmarks;

/// <summary>
/// One measured client count of the pipelined engine ceiling. <c>ImagesPerSecondOverSpan</c> is the
/// rate over the whole timed span (<c>Answers</c> in <c>SpanSeconds</c>), the one the ceiling uses;
/// <c>ImagesPerSecondRuns</c> are the same measure per window, for their spread.
/// </summary>
internal sealed record PipelinedPoint(
    int Clients,
    int Answers,
    double SpanSeconds,
    IReadOnlyList<double> ImagesPerSecondRuns,
    Statistics ImagesPerSecond,
    Statistics LatencyMs,
    IReadOnlyDictionary<string, double> AverageBatchSizeByStage)
{
    public double ImagesPerSecondOverSpan => Answers / SpanSeconds;
}

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
    /// no run starts with empty stages, and until the first answer after the last run, so that the
    /// span ends under the same load.
    /// </summary>
    /// <remarks>
    /// Answers come in bursts (a batch of up to <c>MaxBatchSize</c> captions ends together, every few
    /// seconds on a real-size package), so counting the answers that arrive within a fixed window
    /// reads whole bursts only: 2 or 3 bursts of 16 in 10 s is 3.2 or 4.8/s whatever the true rate.
    /// Instead each boundary (end of warm-up, end of each window) is moved to the first answer at or
    /// after it, and a rate is the answers after one such answer up to and including the next,
    /// divided by the time between the two: both ends sit at the same point of a burst, so only
    /// whole bursts are counted, over the time they actually took. A window in which no answer
    /// arrives shares its boundary answer with the next and is merged into it.
    /// </remarks>
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
        var answeredAfterEnd = false;

        async Task ClientAsync(int client)
        {
            answers[client] = [];
            while (!Volatile.Read(ref answeredAfterEnd))
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

                if (at >= end)
                {
                    Volatile.Write(ref answeredAfterEnd, true);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(() => ClientAsync(client)))).ConfigureAwait(false);
        var averages = batches.TakeAverages();
        var all = answers.SelectMany(a => a).OrderBy(a => a.At).ToList();

        // The index of the first answer at or after each boundary; one always follows the end.
        var boundaries = Enumerable.Range(0, settings.Runs + 1)
            .Select(r => all.FindIndex(a => a.At >= warmUp + (r * window)))
            .Distinct()
            .ToList();
        if (boundaries.Count < 2)
        {
            throw new InvalidOperationException($"pipelined ceiling, {clients} clients: no answer within the timed runs; lengthen --run-seconds");
        }

        double Rate(int from, int to) => (to - from) / (all[to].At - all[from].At).TotalSeconds;
        var runs = boundaries.Zip(boundaries.Skip(1), Rate).ToList();
        var (first, last) = (boundaries[0], boundaries[^1]);
        var timed = all.Skip(first + 1).Take(last - first).ToList();
        return new PipelinedPoint(
            clients, last - first, (all[last].At - all[first].At).TotalSeconds,
            runs, Statistics.Of(runs), Statistics.Of([.. timed.Select(a => a.LatencyMs)]), averages);
    }
}
