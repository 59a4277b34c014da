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
            // Replaces the app's ICaptionEngine registration (InferenceEngines.Create) with the decorated captioning engine.
            services.AddSingleton<ICaptionEngine>(provider => CaptionEngine.Create(
                provider.GetRequiredService<IOptions<ModelOptions>>().Value,
                provider.GetRequiredService<IOptions<BatchingOptions>>().Value,
                provider.GetRequiredService<IOptions<PreprocessingOptions>>().Value,
                provider.GetRequiredService<ILoggerFactory>(),
                Faults));
        });
    }
}
