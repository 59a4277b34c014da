using CaptionService.Api.Models;
using CaptionService.Inference;
using CaptionService.Api.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Api.Tests.Models;

/// <summary>One model's versions: swapped atomically, the old one disposed after its last request, a broken one refused.</summary>
public sealed class HostedModelTests : IDisposable
{
    private readonly string _package = Directory.CreateTempSubdirectory("hosted-model-").FullName;

    public void Dispose() => Directory.Delete(_package, recursive: true);

    [Fact]
    public async Task AReloadSwapsInTheNewVersionAndTheOldOneFinishesItsRequestBeforeItIsDisposed()
    {
        var cancellationToken = TestTimeout.Default();
        var v1 = new FakeEngine("1") { HoldCaptions = true };
        var v2 = new FakeEngine("2");
        using var model = await LoadedAsync(new QueuedEngineFactory().Then(v1).Then(v2));

        var inFlight = CaptionVersionAsync(model, cancellationToken);
        await v1.CaptionStarted.Task.WaitAsync(cancellationToken);
        var outcome = await model.ReloadAsync("request", force: true, cancellationToken);

        Assert.True(outcome!.Succeeded);
        Assert.Equal("2", model.Model.Identity.Version);
        Assert.Equal("2", await CaptionVersionAsync(model, cancellationToken));
        Assert.False(v1.Disposed); // its request still runs
        v1.ReleaseCaptions();
        Assert.Equal("1", await inFlight);
        await WaitUntilAsync(() => v1.Disposed, cancellationToken);
        Assert.False(v2.Disposed);
        Assert.Equal(1, model.Reloads);
    }

    [Fact]
    public async Task ABrokenVersionIsRefusedAndTheServingOneStaysWithTheErrorShown()
    {
        var cancellationToken = TestTimeout.Default();
        var v1 = new FakeEngine("1");
        var coldV2 = new FakeEngine("2", failsWarmUp: true);
        using var model = await LoadedAsync(new QueuedEngineFactory().Then(v1).ThenFails("sha256 mismatch in onnx/encoder_model.onnx").Then(coldV2));

        var refused = await model.ReloadAsync("request", force: true, cancellationToken);
        var failedWarmUp = await model.ReloadAsync("request", force: true, cancellationToken);

        Assert.False(refused!.Succeeded);
        Assert.Contains("sha256 mismatch", refused.Error, StringComparison.Ordinal);
        Assert.False(failedWarmUp!.Succeeded);
        Assert.Contains("warm-up exploded", failedWarmUp.Error, StringComparison.Ordinal);
        Assert.True(coldV2.Disposed);
        Assert.Equal(ModelState.Ready, model.State);
        Assert.Null(model.Failure);
        Assert.Equal("1", await CaptionVersionAsync(model, cancellationToken));
        Assert.Same(failedWarmUp, model.LastReload);
        Assert.Equal("1", failedWarmUp.Version);
        Assert.Equal(0, model.Reloads);
        Assert.False(v1.Disposed);
    }

    [Fact]
    public async Task WithoutForceOnlyChangedFilesReloadAndTheSameBrokenFilesAreNotRetried()
    {
        var cancellationToken = TestTimeout.Default();
        var factory = new QueuedEngineFactory().Then(new FakeEngine("1")).ThenFails("truncated graph").Then(new FakeEngine("3"));
        using var model = await LoadedAsync(factory);

        Assert.Null(await model.ReloadAsync("poll", force: false, cancellationToken));
        await File.WriteAllTextAsync(Path.Combine(_package, "caption_service.json"), "{ \"broken\": true }", cancellationToken);
        Assert.False((await model.ReloadAsync("file change", force: false, cancellationToken))!.Succeeded);
        Assert.Null(await model.ReloadAsync("poll", force: false, cancellationToken));
        await File.WriteAllTextAsync(Path.Combine(_package, "caption_service.json"), "{ \"fixed\": true, \"longer\": 1 }", cancellationToken);
        Assert.True((await model.ReloadAsync("file change", force: false, cancellationToken))!.Succeeded);

        Assert.Equal("3", model.Model.Identity.Version);
        Assert.Equal(3, factory.Requests.Count);
    }

    [Fact]
    public async Task AModelThatFailedToLoadIsFailedUntilAReloadBringsIt()
    {
        var cancellationToken = TestTimeout.Default();
        using var model = new HostedModel("m", new ModelOptions { Path = _package },
            new QueuedEngineFactory().ThenFails("no generation_config.json").Then(new FakeEngine("2")), NullLogger.Instance);

        Assert.False(model.TryLoad(out var error));
        Assert.Equal(ModelState.Failed, model.State);
        Assert.Equal("no generation_config.json", model.Failure);
        Assert.Equal("no generation_config.json", error!.Message);
        var rejected = await Assert.ThrowsAsync<InferenceRejectedException>(() => model.CaptionAsync(new byte[1], new GenerationOptions(), cancellationToken));
        Assert.Equal(RejectionReason.Unavailable, rejected.Reason);
        Assert.Contains("failed to load: no generation_config.json", rejected.Message, StringComparison.Ordinal);

        Assert.True((await model.ReloadAsync("request", force: true, cancellationToken))!.Succeeded);
        Assert.Equal(ModelState.Ready, model.State);
        Assert.Null(model.Failure);
    }

    [Fact]
    public async Task ShutdownDisposesTheServingVersion()
    {
        var engine = new FakeEngine("1");
        using var model = await LoadedAsync(new QueuedEngineFactory().Then(engine));

        await model.ShutdownAsync();

        Assert.True(engine.Disposed);
        Assert.Equal(ModelState.Loading, model.State);
    }

    private async Task<HostedModel> LoadedAsync(IModelEngineFactory factory)
    {
        var model = new HostedModel("m", new ModelOptions { Path = _package }, factory, NullLogger.Instance);
        Assert.True(model.TryLoad(out _));
        Assert.Equal(ModelState.Loading, model.State);
        await model.WarmUpAsync();
        Assert.Equal(ModelState.Ready, model.State);
        return model;
    }

    /// <summary>The version that answered a caption request (the fake engine throws it as <see cref="CaptionedBy"/>).</summary>
    private static async Task<string> CaptionVersionAsync(HostedModel model, CancellationToken cancellationToken)
    {
        var answered = await Assert.ThrowsAsync<CaptionedBy>(() => model.CaptionAsync(new byte[1], new GenerationOptions(), cancellationToken));
        return answered.Version;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(10, cancellationToken);
        }
    }
}
