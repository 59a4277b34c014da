namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>
/// One in-process server with the real default model package and default settings, shared by the
/// functional tests that do not change its state (loading and warming the model once).
/// </summary>
public sealed class RealModelServer : IAsyncLifetime, IAsyncDisposable
{
    private readonly CaptionServiceFactory _factory = new();

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync() => Client = await _factory.CreateReadyClientAsync(TestTimeout.After(TimeSpan.FromMinutes(2)));

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await _factory.DisposeAsync();
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class RealModelServerGroup : ICollectionFixture<RealModelServer>
{
    public const string Name = "Real model server";
}
