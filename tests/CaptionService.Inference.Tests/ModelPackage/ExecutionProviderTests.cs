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

    private static bool CudaLoads()
    {
        CaptionService.Inference.ModelPackage.OrtEnvironment.EnsureCreated();
        try
        {
            using var options = new Microsoft.ML.OnnxRuntime.SessionOptions();
            options.AppendExecutionProvider_CUDA(0);
            return true;
        }
        catch (Exception ex) when (ex is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
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
