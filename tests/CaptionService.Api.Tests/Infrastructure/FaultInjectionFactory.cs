using CaptionService.Api.Models;
using CaptionService.Inference;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>
/// The real app and bundled model, with the engine's executors wrapped by
/// <see cref="FaultInjectingExecutors"/> and every log entry captured in <see cref="Logs"/>.
/// </summary>
internal sealed class FaultInjectionFactory(IReadOnlyDictionary<string, string?> settings) : CaptionServiceFactory(settings)
{
    public FaultInjectingExecutors Faults { get; } = new();

    public CapturingLoggerFactory Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<ILoggerFactory>(Logs);
            // Replaces the app's engine factory (InferenceEngines.Create) with the decorated captioning engine.
            services.AddSingleton<IModelEngineFactory>(provider => new FaultInjectingEngineFactory(
                provider.GetRequiredService<IOptions<BatchingOptions>>().Value,
                provider.GetRequiredService<IOptions<PreprocessingOptions>>().Value,
                provider.GetRequiredService<ILoggerFactory>(),
                Faults));
        });
    }

    private sealed class FaultInjectingEngineFactory(
        BatchingOptions batching, PreprocessingOptions preprocessing, ILoggerFactory loggerFactory, FaultInjectingExecutors faults) : IModelEngineFactory
    {
        public ICaptionEngine Create(ModelOptions model) => CaptionEngine.Create(model, batching, preprocessing, loggerFactory, faults);
    }
}
