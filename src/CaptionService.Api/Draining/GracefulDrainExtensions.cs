using System.Globalization;
using CaptionService.Api.Hosting;

namespace CaptionService.Api.Draining;

internal static class GracefulDrainExtensions
{
    /// <summary>Time after the drain for Kestrel to close connections and the engine to stop its batchers.</summary>
    private static readonly TimeSpan StopMargin = TimeSpan.FromSeconds(5);

    public static WebApplicationBuilder AddGracefulDrain(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ShutdownOptions>(ShutdownOptions.SectionName);

        // The host cancels everything still stopping after ShutdownTimeout; it must outlast the drain.
        // HostOptions are resolved while the host is built, before the start-up check reports bad
        // settings in one line, so the drain timeout is read here without validation or throwing.
        builder.Services.AddOptions<HostOptions>()
            .Configure<IConfiguration>((host, configuration) =>
                host.ShutdownTimeout = ConfiguredDrainTimeout(configuration) + StopMargin);

        builder.Services.AddSingleton<RequestDrain>();
        builder.Services.AddHostedService<GracefulDrainService>();
        return builder;
    }

    private static TimeSpan ConfiguredDrainTimeout(IConfiguration configuration)
    {
        var configured = configuration[$"{ShutdownOptions.SectionName}:{nameof(ShutdownOptions.DrainTimeout)}"];
        return TimeSpan.TryParse(configured, CultureInfo.InvariantCulture, out var drainTimeout) && drainTimeout > TimeSpan.Zero
            ? drainTimeout
            : new ShutdownOptions().DrainTimeout;
    }
}
