using CaptionService.Api.Hosting;
using CaptionService.Api.Draining;
using CaptionService.Api.Models;
using CaptionService.Api.Observability;
using CaptionService.Api.Security;
using CaptionService.Inference;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Engine;

/// <summary>Registers the models (<see cref="ModelRegistry"/>), their options, warm-up and reloads.</summary>
internal static partial class CaptionEngineExtensions
{
    public static WebApplicationBuilder AddCaptionEngine(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ModelOptions>(ModelOptions.SectionName);
        builder.Services.AddValidatedOptions<BatchingOptions>(BatchingOptions.SectionName);
        builder.Services.AddValidatedOptions<PreprocessingOptions>(PreprocessingOptions.SectionName);
        builder.Services.AddValidatedOptions<ModelRepositoryOptions>(ModelRepositoryOptions.SectionName);

        // A CLIP package gets the scoring-only engine, any other the captioning engine (InferenceEngines).
        builder.Services.AddSingleton<IModelEngineFactory, InferenceEngineFactory>();

        // The container disposes the registry (IAsyncDisposable) when the host shuts down, after
        // the drain and after Kestrel stopped: each engine finishes what is queued and stops its batchers.
        builder.Services.AddSingleton(services => ModelRegistry.Discover(
            services.GetRequiredService<IOptions<ModelRepositoryOptions>>().Value,
            services.GetRequiredService<IOptions<ModelOptions>>().Value,
            services.GetRequiredService<IConfiguration>(),
            services.GetRequiredService<IModelEngineFactory>(),
            services.GetRequiredService<ILoggerFactory>()));

        // The default model, for what serves it alone (/caption, /score, /model, readiness).
        builder.Services.AddSingleton<ICaptionEngine>(services => services.GetRequiredService<ModelRegistry>().Default);

        builder.Services.AddHostedService<EngineWarmUpService>();
        builder.Services.AddHostedService<PackageChangeMonitor>();
        return builder;
    }

    /// <summary>
    /// Validates the configuration and loads the model packages before the host starts. An
    /// invalid setting, or with a single package (<c>CaptionService:Model:Path</c>) a missing or
    /// corrupt package or an unavailable execution provider, is logged as one line naming the file
    /// or setting, and the caller exits non-zero. Done here rather than in a hosted service
    /// because the host would log the failure again, stack trace and all. In a repository, a
    /// package that fails is logged and shown by <c>GET /v1/models</c>, and the others serve.
    /// </summary>
    public static bool TryCreateCaptionEngine(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CaptionService.Startup");
        try
        {
            // Options the engine does not consume are validated here too, for the same one-line report.
            _ = app.Services.GetRequiredService<IOptions<ShutdownOptions>>().Value;
            _ = app.Services.GetRequiredService<IOptions<LoggingOptions>>().Value;
            _ = app.Services.GetRequiredService<IOptions<RateLimitOptions>>().Value;
            _ = app.Services.GetRequiredService<IOptions<Admission.AdmissionOptions>>().Value;
            _ = app.Services.GetRequiredService<IOptions<Management.ManagementOptions>>().Value;
            _ = app.Services.GetRequiredService<ApiKeyRing>();

            var registry = app.Services.GetRequiredService<ModelRegistry>();
            foreach (var hosted in registry.Models)
            {
                if (!hosted.TryLoad(out var error))
                {
                    if (!registry.IsRepository)
                    {
                        LogCannotStart(logger, error!.Message);
                        return false;
                    }

                    LogModelFailed(logger, hosted.Name, error!.Message);
                    continue;
                }

                var model = hosted.Model;
                LogModelLoaded(logger, hosted.Name, model.Identity.Name, model.Identity.Version, model.ExecutionProvider);
            }

            if (registry.IsRepository)
            {
                LogRepository(logger, registry.Models.Count, registry.Default.Name);
            }

            return true;
        }
        catch (ModelPackageException e)
        {
            LogCannotStart(logger, e.Message);
        }
        catch (ExecutionProviderUnavailableException e)
        {
            LogCannotStart(logger, e.Message);
        }
        catch (OptionsValidationException e)
        {
            LogCannotStart(logger, "invalid configuration: " + e.Message);
        }
        catch (InvalidOperationException e) when (e.InnerException is FormatException or ArgumentException or OverflowException)
        {
            // The configuration binder's "Failed to convert configuration value 'x' at 'Section:Key'".
            LogCannotStart(logger, "invalid configuration: " + e.Message);
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded model {ModelName}: package {PackageName} {ModelVersion} on {ExecutionProvider}")]
    private static partial void LogModelLoaded(ILogger logger, string modelName, string packageName, string modelVersion, string executionProvider);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {ModelName} failed to load; the other models serve, GET /v1/models shows why, and a change to its files retries: {Reason}")]
    private static partial void LogModelFailed(ILogger logger, string modelName, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {ModelCount} models from the repository; the default is {DefaultModel}")]
    private static partial void LogRepository(ILogger logger, int modelCount, string defaultModel);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Cannot start: {Reason}")]
    private static partial void LogCannotStart(ILogger logger, string reason);
}
