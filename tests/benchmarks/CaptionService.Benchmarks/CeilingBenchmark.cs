using System.Diagnostics;
using CaptionService.Inference;

namespace CaptionService.Benchmarks;

/// <summary>One measured (task, batch size) point of the engine ceiling.</summary>
internal sealed record CeilingPoint(
    string Task,
    int Texts,
    int BatchSize,
    IReadOnlyList<double> ImagesPerSecondRuns,
    Statistics ImagesPerSecond,
    Statistics RoundMs,
    IReadOnlyDictionary<string, double> AverageBatchSizeByStage,
    double MeanQueueMs,
    double MeanPreprocessMs,
    double MeanInferenceMs,
    double? MeanCaptionWords);

/// <summary>
/// Images per second of the engine in-process. Each round submits exactly <c>BatchSize</c>
/// requests at once and waits for all of them; the engine's batch-size histogram must confirm
/// that they ran as one batch per stage. Warm-up first, then several timed runs.
/// </summary>
internal sealed class CeilingBenchmark(ICaptionEngine engine, SharedWorkload workload, BatchSizeListener batches, int? maxTokens = null)
{
    private readonly GenerationOptions _captionOptions = GenerationOptions.Greedy with { MaxTokens = maxTokens };
    private int _next;

    public async Task<CeilingPoint> MeasureAsync(string task, int batchSize, BenchmarkSettings settings)
    {
        var texts = task switch { "caption" => 0, "score1" => 1, "score8" => 8, _ => throw new ArgumentOutOfRangeException(nameof(task)) };
        var textSets = texts == 0 ? [] : Enumerable.Range(0, workload.Images.Count).Select(i => workload.TextsFor(i, texts)).ToArray();

        await RunForAsync(batchSize, textSets, settings.WarmUpSeconds, collect: null).ConfigureAwait(false);
        batches.TakeAverages();

        var runs = new List<double>();
        var rounds = new List<double>();
        var collected = new Collected();
        for (var r = 0; r < settings.Runs; r++)
        {
            var (images, seconds, roundMs) = await RunForAsync(batchSize, textSets, settings.RunSeconds, collected).ConfigureAwait(false);
            runs.Add(images / seconds);
            rounds.AddRange(roundMs);
        }

        var averages = batches.TakeAverages();
        if (averages.Count == 0)
        {
            throw new InvalidOperationException($"{task} at batch {batchSize}: the engine recorded no batches");
        }

        foreach (var (stage, average) in averages)
        {
            if (Math.Abs(average - batchSize) > 0.05 * batchSize)
            {
                throw new InvalidOperationException(
                    $"{task} at batch {batchSize}: stage '{stage}' ran batches of {average:F2} on average, not {batchSize}; the measurement would be mislabelled");
            }
        }

        return new CeilingPoint(task, texts, batchSize, runs, Statistics.Of(runs), Statistics.Of(rounds), averages,
            collected.Queue / collected.Count, collected.Preprocess / collected.Count, collected.Inference / collected.Count,
            texts == 0 ? collected.Words / collected.Count : null);
    }

    private async Task<(int Images, double Seconds, List<double> RoundMs)> RunForAsync(
        int batchSize, string[][] textSets, double seconds, Collected? collect)
    {
        var roundMs = new List<double>();
        var images = 0;
        var tasks = new Task<Timings>[batchSize];
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds)
        {
            var round = Stopwatch.StartNew();
            for (var i = 0; i < batchSize; i++)
            {
                var index = _next++ % workload.Images.Count;
                tasks[i] = textSets.Length == 0 ? CaptionAsync(index, collect) : ScoreAsync(index, textSets[index]);
            }

            var timings = await Task.WhenAll(tasks).ConfigureAwait(false);
            roundMs.Add(round.Elapsed.TotalMilliseconds);
            images += batchSize;
            collect?.Add(timings);
        }

        return (images, total.Elapsed.TotalSeconds, roundMs);
    }

    private async Task<Timings> CaptionAsync(int index, Collected? collect)
    {
        var result = await engine.CaptionAsync(workload.Images[index], _captionOptions).ConfigureAwait(false);
        collect?.AddWords(result.Caption.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        return result.Timings;
    }

    private async Task<Timings> ScoreAsync(int index, string[] texts)
    {
        var result = await engine.ScoreAsync(workload.Images[index], texts).ConfigureAwait(false);
        if (result.Scores.Count != texts.Length)
        {
            throw new InvalidOperationException($"score returned {result.Scores.Count} scores for {texts.Length} texts");
        }

        return result.Timings;
    }

    private sealed class Collected
    {
        private readonly Lock _lock = new();

        public double Count { get; private set; }
        public double Queue { get; private set; }
        public double Preprocess { get; private set; }
        public double Inference { get; private set; }
        public double Words { get; private set; }

        public void Add(Timings[] timings)
        {
            foreach (var t in timings)
            {
                Count++;
                Queue += t.QueueMs;
                Preprocess += t.PreprocessMs;
                Inference += t.InferenceMs;
            }
        }

        public void AddWords(int words)
        {
            lock (_lock)
            {
                Words += words;
            }
        }
    }
}
