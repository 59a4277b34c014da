using System.Globalization;

namespace CaptionService.Benchmarks;

/// <summary>What to measure and for how long; parsed from <c>--name value</c> arguments.</summary>
internal sealed record BenchmarkSettings
{
    public required string ModelPath { get; init; }
    public required string SharedImagesDirectory { get; init; }
    public required string OutputPath { get; init; }
    public required string WorkDirectory { get; init; }
    public int Threads { get; init; } = Environment.ProcessorCount;
    public IReadOnlyList<int> BatchSizes { get; init; } = [1, 2, 4, 8, 16, 32];
    public IReadOnlyList<string> Tasks { get; init; } = ["caption", "score1", "score8"];
    /// <summary>Client counts of the pipelined ceiling (<see cref="PipelinedCeilingBenchmark"/>); empty for none.</summary>
    public IReadOnlyList<int> PipelinedClients { get; init; } = [];
    public int Runs { get; init; } = 5;
    public double RunSeconds { get; init; } = 3;
    public double WarmUpSeconds { get; init; } = 1;
    public int PreprocessPngCount { get; init; } = 300;
    public int PreprocessJpegCount { get; init; } = 30;

    /// <summary><c>ceiling</c> (images/s by batch size, and preprocessing) or <c>steps</c> (decoder step time by position).</summary>
    public string Mode { get; init; } = "ceiling";

    /// <summary><c>maxTokens</c> of every caption the ceiling asks for; null: the model's default.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Steps mode: rows in the decoder batch.</summary>
    public int StepRows { get; init; } = 16;

    /// <summary>Steps mode: positions timed per pass (0 to this minus 1).</summary>
    public int StepPositions { get; init; } = 40;

    /// <summary>Steps mode: timed passes after one warm-up pass.</summary>
    public int StepPasses { get; init; } = 3;

    public const string Usage =
        "usage: CaptionService.Benchmarks --model DIR --images DIR --out FILE --work DIR [--threads N]\n" +
        "         [--batch-sizes 1,2,4,8,16,32] [--tasks caption,score1,score8] [--runs 5] [--run-seconds 3]\n" +
        "         [--warmup-seconds 1] [--preprocess-png 300] [--preprocess-jpeg 30] [--max-tokens N]\n" +
        "         [--pipelined-clients 8,16,64]\n" +
        "       CaptionService.Benchmarks --mode steps --model DIR --out FILE --work DIR [--threads N]\n" +
        "         [--step-rows 16] [--step-positions 40] [--step-passes 3]";

    public static BenchmarkSettings Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Count)
            {
                throw new ArgumentException($"expected --name value at '{args[i]}'\n{Usage}");
            }

            values[args[i][2..]] = args[++i];
        }

        string Take(string name, string? fallback = null)
        {
            if (values.Remove(name, out var value))
            {
                return value;
            }

            return fallback ?? throw new ArgumentException($"--{name} is required\n{Usage}");
        }

        static int PositiveInt(string text, string name) =>
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0
                ? v
                : throw new ArgumentException($"--{name} must be a positive integer, not '{text}'");

        static double PositiveDouble(string text, string name) =>
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0
                ? v
                : throw new ArgumentException($"--{name} must be a positive number, not '{text}'");

        var mode = Take("mode", "ceiling");
        var settings = new BenchmarkSettings
        {
            ModelPath = Path.GetFullPath(Take("model")),
            // Steps mode feeds the decoder seeded noise and reads no images.
            SharedImagesDirectory = Path.GetFullPath(Take("images", mode == "steps" ? "." : null)),
            OutputPath = Path.GetFullPath(Take("out")),
            WorkDirectory = Path.GetFullPath(Take("work")),
            Threads = PositiveInt(Take("threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), "threads"),
            BatchSizes = Take("batch-sizes", "1,2,4,8,16,32").Split(',').Select(b => PositiveInt(b, "batch-sizes")).ToArray(),
            Tasks = Take("tasks", "caption,score1,score8").Split(','),
            PipelinedClients = values.ContainsKey("pipelined-clients")
                ? Take("pipelined-clients").Split(',').Select(c => PositiveInt(c, "pipelined-clients")).ToArray()
                : [],
            Runs = PositiveInt(Take("runs", "5"), "runs"),
            RunSeconds = PositiveDouble(Take("run-seconds", "3"), "run-seconds"),
            WarmUpSeconds = PositiveDouble(Take("warmup-seconds", "1"), "warmup-seconds"),
            PreprocessPngCount = PositiveInt(Take("preprocess-png", "300"), "preprocess-png"),
            PreprocessJpegCount = PositiveInt(Take("preprocess-jpeg", "30"), "preprocess-jpeg"),
            Mode = mode,
            MaxTokens = values.ContainsKey("max-tokens") ? PositiveInt(Take("max-tokens"), "max-tokens") : null,
            StepRows = PositiveInt(Take("step-rows", "16"), "step-rows"),
            StepPositions = PositiveInt(Take("step-positions", "40"), "step-positions"),
            StepPasses = PositiveInt(Take("step-passes", "3"), "step-passes"),
        };

        if (settings.Mode is not ("ceiling" or "steps"))
        {
            throw new ArgumentException($"unknown mode '{settings.Mode}'; use ceiling or steps");
        }

        if (values.Count > 0)
        {
            throw new ArgumentException($"unknown option --{values.Keys.First()}\n{Usage}");
        }

        foreach (var task in settings.Tasks)
        {
            if (task is not ("caption" or "score1" or "score8"))
            {
                throw new ArgumentException($"unknown task '{task}'; use caption, score1, score8");
            }
        }

        return settings;
    }
}
