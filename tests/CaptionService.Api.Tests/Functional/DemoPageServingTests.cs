using System.Net;
using System.Net.Http.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// The demo page's files and example list are served without a key when keys are on (they hold
/// no data; the page sends the key the user types), while the API still asks for one.
/// </summary>
public sealed class DemoPageServingTests(ApiKeyServer server) : IClassFixture<ApiKeyServer>
{
    [Fact]
    public async Task PageAndExamplesAreOpenAndTheApiIsNot()
    {
        var cancellationToken = TestTimeout.Default();
        using var client = await server.CreateReadyClientAsync(cancellationToken);

        using var page = await client.GetAsync("/", cancellationToken);
        using var script = await client.GetAsync("/demo/demo.js", cancellationToken);
        var examples = await client.GetFromJsonAsync<string[]>("/demo/examples", cancellationToken);
        using var example = await client.GetAsync($"/demo/examples/{examples![0]}", cancellationToken);
        using var caption = await client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>CaptionService demo</title>", await page.Content.ReadAsStringAsync(cancellationToken), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal(["four-shapes.png", "one-shape.png", "seven-shapes.png", "two-shapes.png"], examples);
        Assert.Equal("image/png", example.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, caption.StatusCode);
    }

    [Fact]
    public async Task ThePageLoadsNothingFromAnotherOrigin()
    {
        var cancellationToken = TestTimeout.Default();
        using var client = await server.CreateReadyClientAsync(cancellationToken);
        foreach (var path in new[] { "/", "/demo/demo.js", "/demo/demo.css" })
        {
            var text = await client.GetStringAsync(path, cancellationToken);
            Assert.DoesNotContain("http://", text.Replace("http://localhost", "", StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.DoesNotContain("https://", text, StringComparison.Ordinal);
            Assert.DoesNotContain("//cdn", text, StringComparison.Ordinal);
        }
    }
}
