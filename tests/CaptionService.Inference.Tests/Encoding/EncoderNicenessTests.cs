using CaptionService.Inference.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.Encoding;

/// <summary>
/// The image encoder yields the CPU to decoding: its stage's thread and a pool of its own run at a
/// lowered priority, and nothing else does.
/// </summary>
public sealed class EncoderNicenessTests
{
    /// <summary>No other test lowers a thread this far, so the threads found at it are this test's.</summary>
    private const int DistinctNiceness = 13;

    [Fact]
    public void LoweringChangesTheCallingThreadAlone()
    {
        Assert.True(ThreadNiceness.IsSupported, "these tests run on Linux");
        var before = ThreadNiceness.OfCurrentThread();
        int? inside = null;
        var lowered = false;
        var thread = new Thread(() =>
        {
            lowered = ThreadNiceness.LowerCurrentThread(3);
            inside = ThreadNiceness.OfCurrentThread();
        });
        thread.Start();
        thread.Join();

        Assert.True(lowered);
        Assert.Equal(Math.Min(before!.Value + 3, 19), inside);
        Assert.Equal(before, ThreadNiceness.OfCurrentThread());
    }

    [Fact]
    public async Task TheEncodeStageAndTheEncodersOwnPoolRunLowered()
    {
        var expected = Math.Min(ThreadNiceness.OfCurrentThread()!.Value + DistinctNiceness, 19);
        const int threads = 3;
        var engine = CaptionEngine.Create(
            new ModelOptions
            {
                Path = TestPaths.DefaultPackage,
                ExecutionProvider = ExecutionProviderKind.Cpu,
                IntraOpThreads = threads,
                EncoderNiceness = DistinctNiceness,
            },
            new BatchingOptions(),
            new PreprocessingOptions(),
            NullLoggerFactory.Instance);
        await using (engine)
        {
            // The stage's thread lowers itself when it starts; the pool's threads were lowered
            // when the session was created. The calling thread is the pool's last thread.
            await engine.WarmUpAsync(CancellationToken.None);

            Assert.Equal(threads, ThreadsAtNiceness(expected));
        }
    }

    [Fact]
    public void NicenessZeroKeepsTheEncoderOnTheSharedPool()
    {
        var factory = OrtSessionFactory.Create(
            new ModelOptions { Path = TestPaths.DefaultPackage, ExecutionProvider = ExecutionProviderKind.Cpu }, NullLogger.Instance);

        var (session, niceness) = factory.CreateYieldingSession(Path.Combine(TestPaths.DefaultPackage, "onnx", "encoder_model.onnx"), niceness: 0);
        session.Dispose();

        Assert.Equal(0, niceness);
    }

    /// <summary>This process's threads whose nice value is <paramref name="niceness"/>, from <c>/proc/self/task/*/stat</c>.</summary>
    private static int ThreadsAtNiceness(int niceness) =>
        Directory.EnumerateDirectories("/proc/self/task")
            .Select(task => TryRead(Path.Combine(task, "stat")))
            .Count(stat => stat is not null && NiceField(stat) == niceness);

    /// <summary>Field 19 of the line; the fields are counted after the command name, which may hold spaces and parentheses.</summary>
    private static int NiceField(string stat) =>
        int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A thread may end between listing and reading.</summary>
    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
