using System.Diagnostics;
using CaptionService.Inference;
using CaptionService.Inference.Encoding;
using CaptionService.Inference.Generation;
using CaptionService.Inference.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Benchmarks;

/// <summary>The time of one decoder step at one position (tokens already in the cache), over several passes.</summary>
internal sealed record StepPoint(int Position, IReadOnlyList<double> StepMsRuns, Statistics StepMs);

/// <summary>What <see cref="DecoderStepBenchmark"/> measured.</summary>
internal sealed record StepTimings(
    int Rows,
    int Positions,
    int Passes,
    int Layers,
    int Heads,
    int HeadSize,
    int VocabularySize,
    string ExecutionProvider,
    double EncodeMs,
    Statistics JoinImageMs,
    IReadOnlyList<StepPoint> Steps,
    IReadOnlyList<StepPoint> DeviceSteps);

/// <summary>
/// Decoder step time by position, below the batcher: the package's encoder and the engine's own
/// decoder steps over a fixed batch of rows (no row ever leaves), fed each row's argmax token,
/// timed step by step. Each pass starts from an empty cache; the first pass is a warm-up and is
/// not kept. How the time grows with the position shows what the KV cache costs.
/// </summary>
/// <remarks>
/// Both ways of keeping the decoding state are timed on the same graphs, pass by pass in turn (so
/// drift in the machine's speed falls on both): <see cref="StepTimings.Steps"/> with it in host
/// memory (<see cref="OnnxDecoderStep"/>), <see cref="StepTimings.DeviceSteps"/> with it on the
/// provider's device, bound with IOBinding (<see cref="BoundDecoderStep"/>), whatever the package's
/// <c>DecoderState</c> option would pick.
/// </remarks>
internal static class DecoderStepBenchmark
{
    public static StepTimings Measure(BenchmarkSettings settings)
    {
        using var package = ModelPackageLoader.Load(
            new ModelOptions { Path = settings.ModelPath, IntraOpThreads = settings.Threads }, NullLogger.Instance);
        var encoder = new ImageEncoder(package.Encoder, package.ImageTransform.Height, package.ImageTransform.Width);
        var rows = settings.StepRows;

        // The pixels do not change the step time; seeded noise in the normalised range stands in for images.
        var random = new Random(0);
        var images = Enumerable.Range(0, rows).Select(_ =>
        {
            var buffer = new PooledBuffer<float>(encoder.ImageLength);
            foreach (ref var value in buffer.Span)
            {
                value = (float)((random.NextDouble() * 2) - 1);
            }

            return buffer;
        }).ToList();

        var encode = Stopwatch.StartNew();
        var states = encoder.Encode(images);
        var encodeMs = encode.Elapsed.TotalMilliseconds;
        images.ForEach(b => b.Dispose());

        var joinImageMs = MeasureJoinImage(package.Decoder, states[0], settings.StepPasses);
        var hostByPosition = Enumerable.Range(0, settings.StepPositions).Select(_ => new List<double>()).ToArray();
        var deviceByPosition = Enumerable.Range(0, settings.StepPositions).Select(_ => new List<double>()).ToArray();
        try
        {
            for (var pass = 0; pass <= settings.StepPasses; pass++)
            {
                var series = new (string Name, List<double>[] ByPosition, Func<IJoinableDecoderStep> Create)[]
                {
                    ("host", hostByPosition, () => new OnnxDecoderStep(package.Decoder, states)),
                    ("device", deviceByPosition, () => new BoundDecoderStep(package.Decoder, states)),
                };
                foreach (var (name, byPosition, create) in series)
                {
                    var times = RunPass(package, create, states.Length, settings.StepPositions);
                    if (pass == 0)
                    {
                        continue;
                    }

                    for (var position = 0; position < times.Length; position++)
                    {
                        byPosition[position].Add(times[position]);
                    }

                    Console.Error.WriteLine(
                        $"steps pass {pass} ({name} state): batch {rows}, position 2 {times[Math.Min(2, times.Length - 1)]:F1} ms, " +
                        $"position {times.Length - 1} {times[^1]:F1} ms");
                }
            }
        }
        finally
        {
            Array.ForEach(states, s => s.Dispose());
        }

        var decoder = package.Decoder;
        return new StepTimings(rows, settings.StepPositions, settings.StepPasses, decoder.LayerCount, decoder.HeadCount,
            decoder.HeadSize, decoder.VocabularySize, package.ProviderName, encodeMs, joinImageMs,
            Points(hostByPosition), Points(deviceByPosition));
    }

    /// <summary>
    /// What a request joining a running batch costs the batch before its next step: its image's
    /// decoder inputs (with an image cache, every layer's cross-attention keys and values), one image
    /// at a time as requests join; after one warm-up run.
    /// </summary>
    private static Statistics MeasureJoinImage(DecoderGraph decoder, EncoderState state, int runs)
    {
        decoder.PrepareImages([state]).Dispose();
        var times = new List<double>();
        for (var run = 0; run < Math.Max(runs, 1); run++)
        {
            var started = Stopwatch.StartNew();
            decoder.PrepareImages([state]).Dispose();
            times.Add(started.Elapsed.TotalMilliseconds);
        }

        Console.Error.WriteLine($"join: one image's decoder inputs {times.Order().ElementAt(times.Count / 2):F1} ms (median of {times.Count})");
        return Statistics.Of(times);
    }

    private static StepPoint[] Points(List<double>[] byPosition) =>
        [.. byPosition.Select((runs, position) => new StepPoint(position, runs, Statistics.Of(runs)))];

    /// <summary>One pass from an empty cache: the milliseconds of the step at each position.</summary>
    private static double[] RunPass(LoadedModelPackage package, Func<IJoinableDecoderStep> createDecoder, int rows, int positions)
    {
        var times = new double[positions];
        var tokens = new long[rows];
        Array.Fill(tokens, package.Generation.DecoderStartTokenId);
        using var decoder = createDecoder();
        var vocabulary = decoder.VocabularySize;
        for (var position = 0; position < positions; position++)
        {
            var step = Stopwatch.StartNew();
            var logits = decoder.Step(tokens);
            times[position] = step.Elapsed.TotalMilliseconds;

            // Greedy next tokens, outside the timed region.
            for (var row = 0; row < tokens.Length; row++)
            {
                var rowLogits = logits.Slice(row * vocabulary, vocabulary);
                var best = 0;
                for (var t = 1; t < vocabulary; t++)
                {
                    if (rowLogits[t] > rowLogits[best])
                    {
                        best = t;
                    }
                }

                tokens[row] = best;
            }
        }

        return times;
    }
}
