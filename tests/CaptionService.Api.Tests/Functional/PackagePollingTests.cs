using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// Without file-system events (a network volume raises none for another node's writes), polling
/// alone finds a changed package and reloads it; with neither, a change is left alone.
/// </summary>
public sealed class PackagePollingTests : IDisposable
{
    private readonly TestModelRepository _repository = new TestModelRepository().With("vit", TestModelRepository.CaptioningFixture);

    public void Dispose() => _repository.Dispose();

    [Theory]
    [InlineData("00:00:00.200", "0.0.2")]
    [InlineData("00:00:00", "0.0.1")]
    public async Task PollingAloneReloadsAChangedPackage(string pollInterval, string expectedVersion)
    {
        var cancellationToken = TestTimeout.Default();
        await using var factory = new CaptionServiceFactory(new Dictionary<string, string?>
        {
            ["CaptionService:Models:Repository"] = _repository.Root,
            ["CaptionService:Models:WatchForChanges"] = "false",
            ["CaptionService:Models:PollInterval"] = pollInterval,
        });
        using var client = await factory.CreateReadyClientAsync(cancellationToken);

        _repository.SetVersion("vit", "0.0.2");
        var version = "0.0.1";
        for (var attempt = 0; attempt < 60 && version != "0.0.2"; attempt++)
        {
            await Task.Delay(100, cancellationToken);
            version = (await client.GetFromJsonAsync<JsonElement>("/v1/models/vit", cancellationToken)).GetProperty("version").GetString();
        }

        Assert.Equal(expectedVersion, version);
    }
}
