using System.Globalization;
using CaptionService.Api.Hosting;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Management;

/// <summary>
/// <c>CaptionService:Management:Port</c>: Kestrel listens on it besides the public addresses, and
/// <c>/metrics</c>, <c>/swagger</c> and <c>POST /v1/models/{name}/reload</c> are served only there.
/// </summary>
internal static partial class ManagementPortExtensions
{
    /// <summary>Paths served only on the management port once one is set.</summary>
    private static readonly PathString[] s_managementPaths = ["/metrics", "/swagger"];

    /// <summary>
    /// Adds the management port to the addresses Kestrel binds, keeping the public ones as they
    /// were chosen (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, <c>ASPNETCORE_HTTP_PORTS</c>, a
    /// <c>Kestrel:Endpoints</c> section, or the default). Call after <c>AddDefaultListenAddress</c>.
    /// </summary>
    public static WebApplicationBuilder AddManagementPort(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ManagementOptions>(ManagementOptions.SectionName);

        // Options are validated only once the app is built, too late to choose addresses: a value
        // that is not a valid port is left alone here and stops the server at validation.
        var configured = builder.Configuration[$"{ManagementOptions.SectionName}:{nameof(ManagementOptions.Port)}"];
        if (!int.TryParse(configured, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return builder;
        }

        var configuration = builder.Configuration;
        if (configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            // Kestrel:Endpoints replaces every URL setting, so the port joins as one more endpoint.
            configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Kestrel:Endpoints:CaptionServiceManagement:Url"] = $"http://*:{port}",
            });
            return builder;
        }

        var publicUrls = PublicUrls(configuration);
        builder.WebHost.UseUrls([.. publicUrls, ManagementUrl(publicUrls, port)]);

        // The URLs now carry the HTTP_PORTS ones; cleared (empty, as null leaves the environment's
        // value), they do not make Kestrel warn that the URLs override them.
        builder.WebHost.UseSetting(WebHostDefaults.HttpPortsKey, "");
        builder.WebHost.UseSetting(WebHostDefaults.HttpsPortsKey, "");
        return builder;
    }

    /// <summary>
    /// Answers 404 for the management paths on any other port, as for a path that does not exist.
    /// The port the connection arrived on decides, not the Host header, which the client writes
    /// and which names the Service's port rather than the container's behind Kubernetes.
    /// Goes before the API keys, so that the public port does not even ask for a key there.
    /// </summary>
    public static WebApplication UseManagementPort(this WebApplication app)
    {
        var port = app.Services.GetRequiredService<IOptions<ManagementOptions>>().Value.Port;
        if (port is null)
        {
            return app;
        }

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CaptionService.Management");
        LogManagementPort(logger, port.Value);
        app.Use((context, next) =>
        {
            if (context.Connection.LocalPort != port.Value && IsManagementPath(context.Request.Path))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });
        return app;
    }

    private static bool IsManagementPath(PathString path) =>
        Array.Exists(s_managementPaths, managementPath => path.StartsWithSegments(managementPath, StringComparison.OrdinalIgnoreCase))
        || IsModelReload(path);

    /// <summary><c>/v1/models/{name}/reload</c>: model administration.</summary>
    private static bool IsModelReload(PathString path) =>
        path.StartsWithSegments("/v1/models", StringComparison.OrdinalIgnoreCase, out var rest)
        && rest.Value?.Trim('/').Split('/') is [_, var last] && last.Equals(Apis.ModelsApi.ReloadSegment, StringComparison.OrdinalIgnoreCase);

    /// <summary>The public addresses as Kestrel would choose them without a management port.</summary>
    private static List<string> PublicUrls(ConfigurationManager configuration)
    {
        var urls = configuration[WebHostDefaults.ServerUrlsKey];
        if (!string.IsNullOrWhiteSpace(urls))
        {
            return [.. urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }

        // ASPNETCORE_HTTP_PORTS / HTTPS_PORTS mean every interface, as Kestrel reads them.
        static IEnumerable<string> Ports(string? ports, string scheme) =>
            (ports ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"{scheme}://*:{p}");
        var fromPorts = Ports(configuration[WebHostDefaults.HttpPortsKey], "http")
            .Concat(Ports(configuration[WebHostDefaults.HttpsPortsKey], "https"))
            .ToList();
        return fromPorts.Count > 0 ? fromPorts : [ListenAddressExtensions.DefaultUrl];
    }

    /// <summary>Plain HTTP on the first public address's host: loopback stays loopback, every interface stays every interface.</summary>
    private static string ManagementUrl(List<string> publicUrls, int port)
    {
        var first = BindingAddress.Parse(publicUrls[0]);
        var host = first.IsUnixPipe ? "localhost" : first.Host;
        return $"http://{host}:{port}";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Management port {ManagementPort}: /metrics, /swagger and model reloads are served only there; probes and the API on every port")]
    private static partial void LogManagementPort(ILogger logger, int managementPort);
}
