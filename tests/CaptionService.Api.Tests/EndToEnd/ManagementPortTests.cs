using System.Net;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.EndToEnd;

/// <summary>
/// CaptionService:Management:Port on the real server: Kestrel listens on it beside the public
/// address (chosen by <c>--urls</c> or ASPNETCORE_URLS), <c>/metrics</c>, <c>/swagger</c> and
/// model reloads answer only there, and probes and the API answer on the public port.
/// </summary>
[Collection(ServerProcessGroup.Name)]
public sealed class ManagementPortTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MetricsSwaggerAndReloadsAreServedOnlyOnTheManagementPortAndProbesOnBoth(bool urlsFromEnvironment)
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(2));
        var managementPort = ServerProcess.FreeLoopbackPort();
        await using var server = ServerProcess.Start(
            new Dictionary<string, string> { ["CaptionService__Management__Port"] = managementPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            urlsFromEnvironment);
        using var publicPort = new HttpClient { BaseAddress = server.BaseAddress };
        using var management = new HttpClient { BaseAddress = new UriBuilder(server.BaseAddress) { Port = managementPort }.Uri };
        await server.WaitUntilReadyAsync(publicPort, cancellationToken);

        using (var caption = await publicPort.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, caption.StatusCode);
        }

        foreach (var probe in new[] { "/health/live", "/health/ready" })
        {
            using var onPublic = await publicPort.GetAsync(probe, cancellationToken);
            using var onManagement = await management.GetAsync(probe, cancellationToken);
            Assert.Equal(HttpStatusCode.OK, onPublic.StatusCode);
            Assert.Equal(HttpStatusCode.OK, onManagement.StatusCode);
        }

        using (var metrics = await management.GetAsync("/metrics", cancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            var text = await metrics.Content.ReadAsStringAsync(cancellationToken);
            Assert.Contains("captionservice_batch_size", text, StringComparison.Ordinal);
        }

        using (var document = await management.GetAsync("/swagger/v1/swagger.json", cancellationToken))
        using (var ui = await management.GetAsync("/swagger/index.html", cancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, document.StatusCode);
            Assert.Contains("\"/caption\"", await document.Content.ReadAsStringAsync(cancellationToken), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        }

        foreach (var path in new[] { "/metrics", "/swagger/v1/swagger.json", "/swagger/index.html", "/swagger", "/METRICS" })
        {
            using var onPublic = await publicPort.GetAsync(path, cancellationToken);
            Assert.True(onPublic.StatusCode == HttpStatusCode.NotFound, $"{path} on the public port answered {(int)onPublic.StatusCode}");
        }

        // Model administration too: a reload answers only on the management port.
        using (var onPublic = await publicPort.PostAsync("/v1/models/shapeworld-fusion/reload", content: null, cancellationToken))
        using (var onManagement = await management.PostAsync("/v1/models/shapeworld-fusion/reload", content: null, cancellationToken))
        {
            Assert.Equal(HttpStatusCode.NotFound, onPublic.StatusCode);
            Assert.Equal(HttpStatusCode.OK, onManagement.StatusCode);
        }

        Assert.Contains(server.OutputLines, line => line.Contains($"Management port {managementPort}", StringComparison.Ordinal));
    }
}
