using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using CaptionService.Benchmarks;
using CaptionService.Inference;
using Microsoft.Extensions.Logging.Abstractions;

// The engine ceiling: CaptionService.Inference in-process (no HTTP), images per second for caption
// and score at each batch size, captions with the stages pipelined at each client count, plus
// preprocessing alone; or, with --mode steps, decoder step time
// by position (DecoderStepBenchmark). Writes one JSON document to --out.
BenchmarkSettings settings;
try
{
    settings = BenchmarkSettings.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var jsonOptions = new JsonSerializerOptions
{
    WriteIndented = true,
    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    DictionaryKeyPolicy = null,
};
Directory.CreateDirectory(settings.WorkDirectory);
if (settings.Mode == "steps")
{
    // Decoder step time by position, below the batcher (DecoderStepBenchmark); no images needed.
    var stepsStarted = Stopwatch.StartNew();
    var steps = DecoderStepBenchmark.Measure(settings);
    await File.WriteAllTextAsync(settings.OutputPath, JsonSerializer.Serialize(new
    {
        Runtime = new
        {
            Dotnet = RuntimeInformation.FrameworkDescription,
            ProcessorCount = Environment.ProcessorCount,
            OnnxRuntime = AssemblyVersion("Microsoft.ML.OnnxRuntime"),
        },
        Settings = settings,
        DurationSeconds = stepsStarted.Elapsed.TotalSeconds,
        Steps = steps,
    }, jsonOptions)).ConfigureAwait(false);
    return 0;
}

var workload = SharedWorkload.Load(settings.SharedImagesDirectory);
using var batches = new BatchSizeListener();
var started = Stopwatch.StartNew();

// The service's batching, for the pipelined ceiling: as the server runs with its defaults.
ICaptionEngine NewServiceLikeEngine() => CaptionEngine.Create(
    new ModelOptions { Path = settings.ModelPath, IntraOpThreads = settings.Threads },
    new BatchingOptions { RequestTimeout = TimeSpan.FromMinutes(15) },
    new PreprocessingOptions(),
    NullLoggerFactory.Instance);

ICaptionEngine NewEngine(int maxBatchSize) => CaptionEngine.Create(
    // The execution provider is left at its default (Auto), as the service runs it.
    new ModelOptions { Path = settings.ModelPath, IntraOpThreads = settings.Threads },
    new BatchingOptions
    {
        MaxBatchSize = maxBatchSize,
        // Every round submits exactly MaxBatchSize requests at once, so a batch closes because it
        // is full; the long delay only matters if it is not, and then the check below fails.
        MaxQueueDelay = TimeSpan.FromMilliseconds(200),
        MaxQueueSize = Math.Max(256, 4 * maxBatchSize),
        RequestTimeout = TimeSpan.FromMinutes(5),
    },
    new PreprocessingOptions(),
    NullLoggerFactory.Instance);

var points = new List<CeilingPoint>();
ModelInfo? model = null;
foreach (var batchSize in settings.BatchSizes)
{
    var engine = NewEngine(batchSize);
    try
    {
        await engine.WarmUpAsync().ConfigureAwait(false);
        model ??= engine.Model;
        var benchmark = new CeilingBenchmark(engine, workload, batches, settings.MaxTokens);
        foreach (var task in settings.Tasks)
        {
            var point = await benchmark.MeasureAsync(task, batchSize, settings).ConfigureAwait(false);
            points.Add(point);
            Console.Error.WriteLine(
                $"ceiling {task} batch {batchSize}: {point.ImagesPerSecond.Median:F1} images/s " +
                $"(min {point.ImagesPerSecond.Min:F1}, max {point.ImagesPerSecond.Max:F1}), round {point.RoundMs.Median:F2} ms");
        }
    }
    finally
    {
        await DisposeAsync(engine).ConfigureAwait(false);
    }
}

var pipelined = new List<PipelinedPoint>();
if (settings.PipelinedClients.Count > 0 && settings.Tasks.Contains("caption"))
{
    var engine = NewServiceLikeEngine();
    try
    {
        await engine.WarmUpAsync().ConfigureAwait(false);
        model ??= engine.Model;
        var benchmark = new PipelinedCeilingBenchmark(engine, workload, batches, settings.MaxTokens);
        foreach (var clients in settings.PipelinedClients)
        {
            var point = await benchmark.MeasureAsync(clients, settings).ConfigureAwait(false);
            pipelined.Add(point);
            Console.Error.WriteLine(
                $"pipelined ceiling caption, {clients} clients: {point.ImagesPerSecondOverSpan:F2} images/s " +
                $"({point.Answers} answers in {point.SpanSeconds:F1} s; windows min {point.ImagesPerSecond.Min:F2}, " +
                $"median {point.ImagesPerSecond.Median:F2}, max {point.ImagesPerSecond.Max:F2}), latency p50 {point.LatencyMs.Median:F0} ms");
        }
    }
    finally
    {
        await DisposeAsync(engine).ConfigureAwait(false);
    }
}

var preprocessing = new List<PreprocessingPoint>();
{
    var engine = NewEngine(1);
    try
    {
        await engine.WarmUpAsync().ConfigureAwait(false);
        var jpeg = PreprocessingBenchmark.MakeFullHdJpeg(workload.Images[0], Path.Combine(settings.WorkDirectory, "full-hd.jpg"));
        preprocessing.Add(await PreprocessingBenchmark.MeasureAsync(engine, "png", workload.Images[0], settings.PreprocessPngCount).ConfigureAwait(false));
        preprocessing.Add(await PreprocessingBenchmark.MeasureAsync(engine, "jpeg", jpeg, settings.PreprocessJpegCount).ConfigureAwait(false));
        foreach (var p in preprocessing)
        {
            Console.Error.WriteLine($"preprocess {p.Image} {p.Width}x{p.Height} ({p.EncodedBytes} bytes): median {p.PreprocessMs.Median:F3} ms");
        }
    }
    finally
    {
        await DisposeAsync(engine).ConfigureAwait(false);
    }
}

var document = new
{
    Runtime = new
    {
        Dotnet = RuntimeInformation.FrameworkDescription,
        Os = RuntimeInformation.OSDescription,
        ProcessorCount = Environment.ProcessorCount,
        ServerGc = System.Runtime.GCSettings.IsServerGC,
        OnnxRuntime = AssemblyVersion("Microsoft.ML.OnnxRuntime"),
        ImageSharp = AssemblyVersion("SixLabors.ImageSharp"),
    },
    Settings = settings,
    Model = model,
    Images = workload.Images.Count,
    DurationSeconds = started.Elapsed.TotalSeconds,
    Ceiling = points,
    Pipelined = pipelined,
    Preprocessing = preprocessing,
};
await File.WriteAllTextAsync(settings.OutputPath, JsonSerializer.Serialize(document, jsonOptions)).ConfigureAwait(false);
return 0;

static string? AssemblyVersion(string name) =>
    AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == name)
        ?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

static async Task DisposeAsync(ICaptionEngine engine)
{
    if (engine is IAsyncDisposable asyncDisposable)
    {
        await asyncDisposable.DisposeAsync().ConfigureAwait(false);
    }
    else if (engine is IDisposable disposable)
    {
        disposable.Dispose();
    }
}
