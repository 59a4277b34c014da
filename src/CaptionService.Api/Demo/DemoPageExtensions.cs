using CaptionService.Inference;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Demo;

/// <summary>
/// The demo page at <c>/</c>: static files copied beside the executable (<c>demo/</c>), plain HTML,
/// CSS and JavaScript with no external resources, so it works offline and needs no build step. The
/// loaded package's <c>examples/</c> images are listed at <c>GET /demo/examples</c> and served
/// below it. It belongs to the public port (it calls the API there); the files hold no data, so
/// they are served before the API keys are checked, and the page sends a key the user types.
/// </summary>
internal static class DemoPageExtensions
{
    /// <summary>Where the page's files are, beside the executable.</summary>
    private static string SiteDirectory => Path.Combine(AppContext.BaseDirectory, "demo");

    private static readonly string[] s_exampleExtensions = [".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"];

    /// <summary>Serves <c>/</c> (index.html), <c>/demo/*</c> and the package's examples. Call before the API keys.</summary>
    public static WebApplication UseDemoPage(this WebApplication app)
    {
        if (!Directory.Exists(SiteDirectory))
        {
            return app;
        }

        var site = new PhysicalFileProvider(SiteDirectory);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = site, RequestPath = "" });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = site, RequestPath = "" });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = site, RequestPath = "/demo" });

        var examples = ExamplesDirectory(app);
        if (examples is not null)
        {
            app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(examples), RequestPath = "/demo/examples" });
        }

        return app;
    }

    /// <summary><c>GET /demo/examples</c>: the example image names, for the page (not part of the API document).</summary>
    public static IEndpointRouteBuilder MapDemoPage(this IEndpointRouteBuilder app)
    {
        var examples = ExamplesDirectory(app);
        app.MapGet("/demo/examples", () => TypedResults.Ok(examples is null
                ? []
                : Directory.EnumerateFiles(examples)
                    .Where(path => s_exampleExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase))
                    .Select(Path.GetFileName)
                    .OfType<string>()
                    .Order(StringComparer.Ordinal)
                    .ToArray()))
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>The loaded package's <c>examples/</c> directory, when it has one.</summary>
    private static string? ExamplesDirectory(IEndpointRouteBuilder app)
    {
        var model = app.ServiceProvider.GetRequiredService<IOptions<ModelOptions>>().Value;
        var directory = Path.Combine(model.ResolvePath(), "examples");
        return Directory.Exists(directory) ? directory : null;
    }
}
