using CaptionService.Api.Hosting;

namespace CaptionService.Api.Security;

internal static partial class ApiKeyExtensions
{
    public static WebApplicationBuilder AddApiKeys(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<SecurityOptions>(SecurityOptions.SectionName);
        builder.Services.AddSingleton<ApiKeyRing>();
        return builder;
    }

    /// <summary>Goes early, before anything reads a body; logs once whether keys are on.</summary>
    public static WebApplication UseApiKeys(this WebApplication app)
    {
        var keys = app.Services.GetRequiredService<ApiKeyRing>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CaptionService.Security");
        if (keys.IsEnabled)
        {
            ApiKeysOn(logger, keys.Count);
        }
        else
        {
            ApiKeysOff(logger);
        }

        app.UseMiddleware<ApiKeyMiddleware>();
        return app;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "API keys are on: {KeyCount} accepted; probes are open")]
    private static partial void ApiKeysOn(ILogger logger, int keyCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "API keys are off: every endpoint is open (set CaptionService:Security:ApiKeys or ApiKeysFile)")]
    private static partial void ApiKeysOff(ILogger logger);
}
