using CaptionService.Api.Hosting;
using CaptionService.Api.Draining;
using CaptionService.Api.Observability;
using CaptionService.Api.Security;
using CaptionService.Inference;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Engine;

/// <summary>Registers the inference engine, its options and its warm-up.</summary>
internal static partial class CaptionEngineExtensions
{
    public static WebApplicationBuilder AddCaptionEngine(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ModelOptions>(ModelOptions.SectionName);
        builder.Services.AddValidatedOptions<BatchingOptions>(BatchingOptions.SectionName);
        builder.Services.AddValidatedOptions<PreprocessingOptions>(PreprocessingOptions.SectionName);

        // The container disposes the engine (IAsyncDisposable) when the host shuts down, after
        // the drain and after Kestrel stopped: it finishes what is queued and stops its batchers.
        // A CLIP package gets the scoring-only engine, any other the captioning engine (InferenceEngines).
        builder.Services.AddSingleton(services => InferenceEngines.Create(
            services.GetRequiredService<IOptions<ModelOptions>>().Value,
            services.GetRequiredService<IOptions<BatchingOptions>>().Value,
            services.GetRequiredService<IOptions<PreprocessingOptions>>().Value,
            services.GetRequiredService<ILoggerFactory>()));

        builder.Services.AddHostedService<EngineWarmUpService>();
        return builder;
    }

    /// <summary>
    /// Validates the configuration and loads the model package before the host starts. A missing
    /// or corrupt package, an unavailable execution provider or an invalid setting is logged as
    /// one line naming the file or setting, and the caller exits non-zero. Done here rather than
    /// in a hosted service because the host would log the failure again, stack trace and all.
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

            var engine = app.Services.GetRequiredService<ICaptionEngine>();
            var model = engine.Model;
            LogModelLoaded(logger, model.Identity.Name, model.Identity.Version, model.ExecutionProvider);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded model {ModelName} {ModelVersion} on {ExecutionProvider}")]
    private static partial void LogModelLoaded(ILogger logger, string modelName, string modelVersion, string executionProvider);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Cannot start: {Reason}")]
    private static partial void LogCannotStart(ILogger logger, string reason);
}
