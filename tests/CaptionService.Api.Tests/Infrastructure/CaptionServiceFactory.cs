using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>
/// The real application in-process on TestServer, with the real bundled model package unless a
/// test replaces the engine. Extra settings override appsettings.json like environment variables do.
/// </summary>
public class CaptionServiceFactory(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    /// <summary>Test output stays readable: only warnings and errors from the server.</summary>
    private static readonly Dictionary<string, string?> QuietLogging = new()
    {
        ["Serilog:MinimumLevel:Default"] = "Warning",
        ["Serilog:MinimumLevel:Override:CaptionService"] = "Warning",
    };

    public CaptionServiceFactory()
        : this(new Dictionary<string, string?>())
    {
    }

    /// <summary>A client once <c>/health/ready</c> says 200, i.e. once the model has warmed up.</summary>
    public async Task<HttpClient> CreateReadyClientAsync(CancellationToken cancellationToken)
    {
        var client = CreateClient();
        while (true)
        {
            using var response = await client.GetAsync("/health/ready", cancellationToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return client;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.ConfigureAppConfiguration(configuration => configuration
            .AddInMemoryCollection(QuietLogging)
            .AddInMemoryCollection(settings));
    }
}
