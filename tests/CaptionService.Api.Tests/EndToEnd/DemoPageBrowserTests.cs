using CaptionService.Api.Tests.Infrastructure;
using Microsoft.Playwright;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CaptionService.Api.Tests.EndToEnd;

/// <summary>
/// The demo page at <c>/</c> in a real browser (headless Debian Chromium driven by Playwright, as
/// <see cref="SwaggerUiBrowserTests"/>): upload a scene, read the caption, hover a word and find
/// its heat map drawn on the canvas, score a statement, pick a bundled example, and see the
/// warnings for a non-scene image. Screenshots go to <c>screenshots/</c> in the test output directory.
/// </summary>
[Collection(ServerProcessGroup.Name)]
public sealed class DemoPageBrowserTests
{
    private const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArguments =
        ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    private static readonly string s_examples = Path.Combine(RepositoryPaths.RepositoryRoot, "models", "shapeworld-fusion", "examples");

    /// <summary>Where the screenshots are kept: the test output directory.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    [Fact]
    public async Task CaptionHeatMapScoreExampleAndWarningsWorkInTheBrowser()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(4));
        await using var server = ServerProcess.Start();
        using (var client = new HttpClient())
        {
            await server.WaitUntilReadyAsync(client, cancellationToken);
        }

        Directory.CreateDirectory(ScreenshotDirectory);
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Args = ChromiumArguments });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 1300 } });
        page.SetDefaultTimeout(30_000);
        var failedRequests = new List<string>();
        page.RequestFailed += (_, request) => failedRequests.Add(request.Url);

        await page.GotoAsync(server.BaseAddress.ToString());
        await Assertions.Expect(page).ToHaveTitleAsync("CaptionService demo");

        // Upload: the caption appears as one focusable button per word.
        await page.GetByLabel("Image file").SetInputFilesAsync(Path.Combine(s_examples, "two-shapes.png"));
        var words = page.Locator("#caption button.word");
        await Assertions.Expect(words).ToHaveCountAsync(12);
        Assert.Equal("a magenta square is to the left of a cyan square .", string.Join(' ', await words.AllInnerTextsAsync()));
        await Assertions.Expect(page.Locator("#alternatives tbody tr").First).ToContainTextAsync("a magenta square is to the left of a cyan square .");
        Assert.Equal(0, await HeatPixelsAsync(page));

        // Hover a word: its heat map is drawn on the canvas, hottest over the magenta square.
        await words.Nth(2).HoverAsync();
        Assert.True(await HeatPixelsAsync(page) > 500, "hovering 'square' drew no heat map");
        var magenta = await ImageColourUnderHottestPixelAsync(page);
        Assert.True(magenta.R > 150 && magenta.G < 100 && magenta.B > 150, $"the first 'square' should look at the magenta square; the image there is {magenta}");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, "demo-1-caption-hover.png"), FullPage = true });

        // Keyboard: focusing another word draws its map instead; leaving clears it.
        await page.Mouse.MoveAsync(1000, 10);
        Assert.Equal(0, await HeatPixelsAsync(page));
        await words.Nth(10).FocusAsync();
        Assert.True(await HeatPixelsAsync(page) > 500, "focusing the second 'square' drew no heat map");
        var cyan = await ImageColourUnderHottestPixelAsync(page);
        Assert.True(cyan.R < 100 && cyan.G > 120 && cyan.B > 120, $"the second 'square' should look at the cyan square; the image there is {cyan}");

        // Score a statement and see where the scorer looked.
        await page.GetByLabel("Statement about the image").FillAsync("there is a cyan square .");
        await page.GetByRole(AriaRole.Button, new() { Name = "Score" }).ClickAsync();
        var scored = page.Locator("#scores button.score").First;
        await Assertions.Expect(scored).ToContainTextAsync("there is a cyan square .");
        Assert.True(double.Parse(await scored.GetAttributeAsync("data-score") ?? "0", System.Globalization.CultureInfo.InvariantCulture) > 0.5);
        await scored.HoverAsync();
        Assert.True(await HeatPixelsAsync(page) > 500, "hovering a score drew no evidence map");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, "demo-2-score-hover.png"), FullPage = true });

        // A bundled example is one click away.
        await page.GetByRole(AriaRole.Button, new() { Name = "Use the example one-shape" }).ClickAsync();
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Caption of one-shape.png: there is a yellow ellipse .");
        await Assertions.Expect(page.Locator("#warnings")).ToBeEmptyAsync();

        // A non-scene image (a line plot on white) is captioned with warnings.
        var plot = Path.Combine(ScreenshotDirectory, "plot.png");
        await File.WriteAllBytesAsync(plot, LinePlotPng(), cancellationToken);
        await page.GetByLabel("Image file").SetInputFilesAsync(plot);
        await Assertions.Expect(page.Locator("#warnings li[data-code='out-of-distribution']")).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, "demo-3-non-scene-warnings.png"), FullPage = true });

        Assert.Empty(failedRequests);
    }

    /// <summary>How many pixels of the heat canvas are not transparent.</summary>
    private static Task<int> HeatPixelsAsync(IPage page) => page.EvaluateAsync<int>("""
        () => {
          const canvas = document.getElementById('heat-canvas');
          const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let count = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i] > 0) count++;
          return count;
        }
        """);

    /// <summary>The colour of the image canvas under the most opaque pixel of the heat canvas.</summary>
    private static async Task<(int R, int G, int B)> ImageColourUnderHottestPixelAsync(IPage page)
    {
        var rgb = await page.EvaluateAsync<int[]>("""
            () => {
              const heat = document.getElementById('heat-canvas');
              const data = heat.getContext('2d').getImageData(0, 0, heat.width, heat.height).data;
              let best = 3;
              for (let i = 3; i < data.length; i += 4) if (data[i] > data[best]) best = i;
              const pixel = (best - 3) / 4;
              const image = document.getElementById('image-canvas').getContext('2d');
              return Array.from(image.getImageData(pixel % heat.width, Math.floor(pixel / heat.width), 1, 1).data.slice(0, 3));
            }
            """);
        return (rgb[0], rgb[1], rgb[2]);
    }

    /// <summary>Axes and a rising line on white, the kind of image the model has never seen.</summary>
    private static byte[] LinePlotPng()
    {
        using var image = new Image<Rgb24>(120, 90, new Rgb24(255, 255, 255));
        for (var x = 10; x < 115; x++)
        {
            image[x, 80] = new Rgb24(0, 0, 0);
            var y = 75 - ((x - 10) * 55 / 105);
            image[x, y] = image[x, y + 1] = new Rgb24(31, 119, 180);
        }

        for (var y = 5; y <= 80; y++)
        {
            image[10, y] = new Rgb24(0, 0, 0);
        }

        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}
