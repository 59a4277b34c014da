using CaptionService.Inference.ModelPackage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>Provider selection on this machine. Which branch runs depends on whether CUDA loads here, and both are checked.</summary>
public sealed class ExecutionProviderTests
{
    [Fact]
    public async Task AutoUsesCudaWhenItLoadsAndOtherwiseFallsBackToCpuWithOneWarning()
    {
        var logs = new CapturingLoggerFactory();
        var cudaLoads = CudaLoads();

        await using var engine = CaptionEngine.Create(
            new ModelOptions { Path = TestPaths.DefaultPackage, ExecutionProvider = ExecutionProviderKind.Auto },
            new BatchingOptions(), new PreprocessingOptions(), logs);

        Assert.Equal(cudaLoads ? "cuda" : "cpu", engine.Model.ExecutionProvider);
        Assert.Equal(cudaLoads ? 0 : 1, logs.Entries.Count(e => e.Level == LogLevel.Warning && e.Message.Contains("CUDA", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task CudaRunsOnCudaWhenItLoadsAndOtherwiseFailsFast()
    {
        var options = new ModelOptions { Path = TestPaths.DefaultPackage, ExecutionProvider = ExecutionProviderKind.Cuda };
        if (CudaLoads())
        {
            await using var engine = CaptionEngine.Create(options, new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance);
            Assert.Equal("cuda", engine.Model.ExecutionProvider);
            return;
        }

        var ex = Assert.Throws<ExecutionProviderUnavailableException>(() =>
            CaptionEngine.Create(options, new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance));

        Assert.Contains("CUDA", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The case this machine cannot produce: CUDA's libraries load, but no device is usable (the
    /// provider then fails when a session is created or run). Auto must settle on CPU with one
    /// warning carrying the reason; Cuda must refuse to start with it.
    /// </summary>
    [Theory]
    [InlineData(ExecutionProviderKind.Auto)]
    [InlineData(ExecutionProviderKind.Cuda)]
    public void ProviderThatLoadsWithoutAUsableDeviceFallsBackUnderAutoAndFailsUnderCuda(ExecutionProviderKind requested)
    {
        const string Reason = "CUDA failure 100: no CUDA-capable device is detected";
        var logs = new CapturingLoggerFactory();
        var probedDevices = new List<int>();
        var options = new ModelOptions { Path = TestPaths.DefaultPackage, ExecutionProvider = requested, CudaDeviceId = 3 };
        string? NoDevice(int device)
        {
            probedDevices.Add(device);
            return Reason;
        }

        if (requested == ExecutionProviderKind.Auto)
        {
            var sessions = OrtSessionFactory.Create(options, logs.CreateLogger("test"), NoDevice);
            Assert.Equal(ExecutionProviderKind.Cpu, sessions.Provider);
            var warning = Assert.Single(logs.Entries, e => e.Level == LogLevel.Warning);
            Assert.Contains(Reason, warning.Message, StringComparison.Ordinal);
        }
        else
        {
            var ex = Assert.Throws<ExecutionProviderUnavailableException>(() => OrtSessionFactory.Create(options, logs.CreateLogger("test"), NoDevice));
            Assert.Contains(Reason, ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal([3], probedDevices);
    }

    [Fact]
    public void CpuIsNeverProbedAndAWorkingProbeMeansCuda()
    {
        var logger = new CapturingLoggerFactory().CreateLogger("test");
        var cpu = new ModelOptions { Path = TestPaths.DefaultPackage, ExecutionProvider = ExecutionProviderKind.Cpu };
        Assert.Equal(ExecutionProviderKind.Cpu, OrtSessionFactory.Create(cpu, logger, _ => throw new InvalidOperationException("probed")).Provider);

        var auto = new ModelOptions { Path = TestPaths.DefaultPackage, ExecutionProvider = ExecutionProviderKind.Auto };
        Assert.Equal(ExecutionProviderKind.Cuda, OrtSessionFactory.Create(auto, logger, _ => null).Provider);
    }

    private static bool CudaLoads()
    {
        OrtEnvironment.EnsureCreated(intraOpThreads: 0, interOpThreads: 1);
        return CudaDeviceProbe.Probe(0) is null;
    }

    private sealed class CapturingLoggerFactory : ILoggerFactory
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => new CapturingLogger(this);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class CapturingLogger(CapturingLoggerFactory owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner.Entries)
                {
                    owner.Entries.Add((logLevel, formatter(state, exception)));
                }
            }
        }
    }
}
