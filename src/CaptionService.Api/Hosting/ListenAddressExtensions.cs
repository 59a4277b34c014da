namespace CaptionService.Api.Hosting;

/// <summary>Where the server listens when nobody said.</summary>
internal static class ListenAddressExtensions
{
    public const string DefaultUrl = "http://localhost:8080";

    /// <summary>
    /// Listens on <see cref="DefaultUrl"/> unless <c>--urls</c>, <c>ASPNETCORE_URLS</c>,
    /// <c>ASPNETCORE_HTTP_PORTS</c>/<c>HTTPS_PORTS</c> or a <c>Kestrel:Endpoints</c> section chose
    /// the addresses. Putting the default in appsettings.json instead would override
    /// <c>ASPNETCORE_URLS</c>, because app configuration is read after the ASPNETCORE_ variables.
    /// </summary>
    public static WebApplicationBuilder AddDefaultListenAddress(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var addressesChosen =
            !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.ServerUrlsKey])
            || !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpPortsKey])
            || !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpsPortsKey])
            || configuration.GetSection("Kestrel:Endpoints").Exists();

        if (!addressesChosen)
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        return builder;
    }
}
