using CaptionService.Inference;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Demo;

/// <summary>
/// The demo page at <c>/</c>: static files copied beside the executable (<c>demo/</c>), plain HTML,
/// CSS and JavaScript with no external resources, so it works offline and needs no build step. The
/// loaded package's <c>examples/</c> images are listed at <c>GET /demo/examples</c> (read once, at
/// start-up) and served below it. It belongs to the public port (it calls the API there); the files hold no data, so
/// they are served before the API keys are checked, and the page sends a key the user types.
/// </summary>
internal static class DemoPageExtensions
{
    /// <summary>Where the page's files are, beside the executable.</summary>
    private static string SiteDirectory => Path.Combine(AppContext.BaseDirectory, "demo");

    private static readonly string[] s_exampleExtensions = [".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"];

    /// <summary>Serves <c>/</c> (index.html), <c>/demo/*</c>, the package's examples and their list. Call before the API keys.</summary>
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

        // GET /demo/examples: the example image names for the page; here rather than as an
        // endpoint, so that it is open like the files (and stays out of the API document).
        var names = examples is null ? [] : ExampleNames(examples);
        app.Use((context, next) =>
            HttpMethods.IsGet(context.Request.Method) && context.Request.Path.Equals("/demo/examples", StringComparison.Ordinal)
                ? context.Response.WriteAsJsonAsync(names, context.RequestAborted)
                : next(context));
        return app;
    }

    private static string[] ExampleNames(string directory) =>
        [.. Directory.EnumerateFiles(directory)
            .Where(path => s_exampleExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase))
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal)];

    /// <summary>The loaded package's <c>examples/</c> directory, when it has one.</summary>
    private static string? ExamplesDirectory(WebApplication app)
    {
        var model = app.Services.GetRequiredService<IOptions<ModelOptions>>().Value;
        var directory = Path.Combine(model.ResolvePath(), "examples");
        return Directory.Exists(directory) ? directory : null;
    }
}
