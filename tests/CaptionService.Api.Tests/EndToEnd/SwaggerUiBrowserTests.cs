using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;
using Microsoft.Playwright;

namespace CaptionService.Api.Tests.EndToEnd;

/// <summary>
/// What a newcomer does first: open Swagger UI in a real browser (headless Debian Chromium driven
/// by Playwright), "Try it out" on POST /caption, upload a ShapeWorld image, Execute, read the caption.
/// The server is the real process on a socket; TestServer has none for a browser.
/// </summary>
[Collection(ServerProcessGroup.Name)]
public sealed class SwaggerUiBrowserTests
{
    /// <summary>The distribution's browser; Playwright never downloads one here.</summary>
    private const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArguments =
    [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ];

    [Fact]
    public async Task TryItOutUploadsAShapeWorldImageToCaptionAndShowsTheCaption()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(3));
        await using var server = ServerProcess.Start();
        using (var client = new HttpClient())
        {
            await server.WaitUntilReadyAsync(client, cancellationToken);
        }

        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArguments,
        });
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(30_000);

        await page.GotoAsync(new Uri(server.BaseAddress, "/swagger").ToString());
        var operation = page.Locator("#operations-Inference-Caption");
        await operation.Locator(".opblock-summary").First.ClickAsync();
        await operation.GetByRole(AriaRole.Button, new() { Name = "Try it out" }).ClickAsync();
        await operation.Locator("input[type=file]").First.SetInputFilesAsync(RepositoryPaths.ShapeWorldImage);
        await operation.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();

        var responseRow = operation.Locator(".live-responses-table tr.response").First;
        await Assertions.Expect(responseRow.Locator(".response-col_status")).ToHaveTextAsync("200");
        var bodyText = await responseRow.Locator(".response-col_description pre").First.InnerTextAsync();

        using var body = JsonDocument.Parse(bodyText);
        var caption = body.RootElement.GetProperty("caption").GetString();
        Assert.NotNull(caption);
        Assert.Equal(caption, body.RootElement.GetProperty("alternatives")[0].GetProperty("caption").GetString());
        Assert.Equal(ReferenceCaptions.ForShapeWorldImage, caption);
    }
}
