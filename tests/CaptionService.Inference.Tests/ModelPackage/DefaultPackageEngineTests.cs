using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>The bundled default package, end to end through the public engine.</summary>
public sealed class DefaultPackageEngineTests : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private CaptionEngine _engine = null!;

    private static byte[] FixtureImage(int index) =>
        File.ReadAllBytes(Path.Combine(TestPaths.Fixtures, "parity", "shapeworld-fusion", $"image-{index}.png"));

    public Task InitializeAsync()
    {
        _engine = CaptionEngine.Create(
            new ModelOptions { Path = TestPaths.DefaultPackage, ExecutionProvider = ExecutionProviderKind.Cpu, IntraOpThreads = 1 },
            new BatchingOptions(),
            new PreprocessingOptions(),
            NullLoggerFactory.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    public void Dispose() => _timeout.Dispose();

    /// <summary>A value from one of the package's JSON files, so that these tests follow the package when it is retrained.</summary>
    private static JsonElement PackageValue(string file, params string[] path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.DefaultPackage, file)));
        var element = document.RootElement;
        foreach (var name in path)
        {
            element = element.GetProperty(name);
        }

        return element.Clone();
    }

    [Fact]
    public void ModelInfoComesFromThePackageAndTheGraphs()
    {
        var info = _engine.Model;

        Assert.Equal("shapeworld-fusion", info.Identity.Name);
        Assert.Equal(PackageValue("caption_service.json", "version").GetString(), info.Identity.Version);
        Assert.Equal("cpu", info.ExecutionProvider);
        Assert.Equal(PackageValue("preprocessor_config.json", "size", "height").GetInt32(), info.ImageHeight);
        Assert.Equal(PackageValue("preprocessor_config.json", "size", "width").GetInt32(), info.ImageWidth);
        Assert.Equal(PackageValue("config.json", "decoder", "vocab_size").GetInt32(), info.VocabularySize);
        Assert.Equal(PackageValue("generation_config.json", "max_length").GetInt32() - 1, info.MaxTokens);
        Assert.True(info.SupportsScoring);
        Assert.False(_engine.IsWarm);
    }

    [Fact]
    public async Task WarmUpRunsEveryStageAndMarksTheEngineWarm()
    {
        await _engine.WarmUpAsync(_timeout.Token);

        Assert.True(_engine.IsWarm);
    }

    [Fact]
    public async Task CaptionsAnImageWithTimingsAndAConfidenceFromTheLogProb()
    {
        var result = await _engine.CaptionAsync(FixtureImage(0), GenerationOptions.Greedy, _timeout.Token);

        Assert.Equal("shapeworld-fusion", result.Model.Name);
        var best = Assert.Single(result.Alternatives);
        Assert.Equal(result.Caption, best.Caption);
        Assert.True(best.LogProb < 0);
        Assert.InRange(result.Confidence, 0, 1);
        Assert.True(result.Timings.TotalMs >= result.Timings.InferenceMs);
        Assert.True(result.Timings.InferenceMs > 0);
    }

    [Fact]
    public async Task BeamSearchReturnsTheRequestedAlternativesBestFirst()
    {
        var result = await _engine.CaptionAsync(FixtureImage(1), new GenerationOptions { Beams = 4, Alternatives = 3, MaxTokens = 6 }, _timeout.Token);

        Assert.Equal(3, result.Alternatives.Count);
        Assert.True(result.Alternatives[0].LogProb >= result.Alternatives[1].LogProb);
        Assert.True(result.Alternatives[1].LogProb >= result.Alternatives[2].LogProb);
        Assert.Equal(result.Alternatives[0].Caption, result.Caption);
    }

    [Fact]
    public async Task SamplingWithASeedIsReproducible()
    {
        var options = new GenerationOptions { Temperature = 1.5, TopK = 20, TopP = 0.95, Seed = 7, MaxTokens = 8 };

        var first = await _engine.CaptionAsync(FixtureImage(0), options, _timeout.Token);
        var second = await _engine.CaptionAsync(FixtureImage(0), options, _timeout.Token);

        Assert.Equal(first.Alternatives[0].LogProb, second.Alternatives[0].LogProb);
        Assert.Equal(first.Caption, second.Caption);
    }

    [Fact]
    public async Task ScoresComeBackInTheOrderOfTheTextsAsProbabilities()
    {
        string[] texts = ["a red square is to the left of a blue circle .", "a green triangle .", "there is a cross ."];

        var result = await _engine.ScoreAsync(FixtureImage(0), texts, _timeout.Token);

        Assert.Equal(texts, result.Scores.Select(s => s.Text));
        Assert.All(result.Scores, s => Assert.InRange(s.Score, 0, 1));
    }

    [Fact]
    public async Task ConcurrentRequestsAreBatchedAndEachGetsItsOwnAnswer()
    {
        var images = new[] { FixtureImage(0), FixtureImage(1) };
        var alone = await Task.WhenAll(images.Select(image => _engine.ScoreAsync(image, ["a red square ."], _timeout.Token)));

        var together = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            _engine.ScoreAsync(images[i % 2], ["a red square ."], _timeout.Token)));

        for (var i = 0; i < together.Length; i++)
        {
            Assert.Equal(alone[i % 2].Scores[0].Score, together[i].Scores[0].Score, 5);
        }
    }

    [Fact]
    public async Task ATextOverTheModelLimitIsRejectedNamingTheLimit()
    {
        var limit = PackageValue("caption_service.json", "tokenizer", "max_length").GetInt32();
        var text = string.Join(' ', Enumerable.Repeat("red", limit));

        var ex = await Assert.ThrowsAsync<InferenceRejectedException>(() => _engine.ScoreAsync(FixtureImage(0), ["a square .", text], _timeout.Token));

        Assert.Equal(RejectionReason.TextTooLong, ex.Reason);
        Assert.Contains("Text 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"at most {limit} tokens", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidOptionsAreRejectedBeforeAnyWork()
    {
        var ex = await Assert.ThrowsAsync<InferenceRejectedException>(() =>
            _engine.CaptionAsync(FixtureImage(0), new GenerationOptions { Beams = 9 }, _timeout.Token));

        Assert.Equal(RejectionReason.InvalidOption, ex.Reason);
        Assert.Contains("beams", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterDisposeNewRequestsAreUnavailable()
    {
        await _engine.DisposeAsync();

        var ex = await Assert.ThrowsAsync<InferenceRejectedException>(() => _engine.CaptionAsync(FixtureImage(0), GenerationOptions.Greedy, _timeout.Token));

        Assert.Equal(RejectionReason.Unavailable, ex.Reason);
    }
}
