using System.Text.Json;
using CaptionService.Inference.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>
/// The exporter's random-weight package in the Optimum vit-gpt2 layout: a merged decoder with
/// <c>use_cache_branch</c>, a GPT-2 byte-level BPE tokenizer, and no fusion graph.
/// </summary>
public sealed class VitGpt2FixtureTests : IDisposable
{
    private static readonly string s_package = Path.Combine(TestPaths.Fixtures, "vit-gpt2-tiny");
    private static readonly string s_parity = Path.Combine(TestPaths.Fixtures, "parity", "vit-gpt2-tiny");
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));

    public void Dispose() => _timeout.Dispose();

    private static CaptionEngine Create() => CaptionEngine.Create(
        new ModelOptions { Path = s_package, ExecutionProvider = ExecutionProviderKind.Cpu },
        new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance);

    [Fact]
    public async Task LoadsAndCaptionsTheFixtureImagesAsPythonDid()
    {
        await using var engine = Create();
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(s_parity, "cases.json")));
        var greedy = document.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("graph").GetString() == "pipeline");
        var expected = greedy.GetProperty("expected_captions").EnumerateArray().Select(c => c.GetString()).ToArray();

        for (var i = 0; i < expected.Length; i++)
        {
            var image = File.ReadAllBytes(Path.Combine(s_parity, $"image-{i}.png"));
            var result = await engine.CaptionAsync(image, GenerationOptions.Greedy, _timeout.Token);
            Assert.Equal(expected[i], result.Caption);
        }

        Assert.Equal("vit-gpt2-tiny", engine.Model.Identity.Name);
        Assert.False(engine.Model.SupportsScoring);
    }

    [Fact]
    public async Task BeamSearchRunsThroughTheUseCacheBranchDecoder()
    {
        await using var engine = Create();
        var image = File.ReadAllBytes(Path.Combine(s_parity, "image-1.png"));

        var result = await engine.CaptionAsync(image, new GenerationOptions { Beams = 3, Alternatives = 3 }, _timeout.Token);

        Assert.Equal(3, result.Alternatives.Count);
        Assert.True(result.Alternatives[0].LogProb >= result.Alternatives[2].LogProb);
    }

    [Fact]
    public async Task ScoringIsRefusedWithoutAFusionGraph()
    {
        await using var engine = Create();

        var ex = await Assert.ThrowsAsync<InferenceRejectedException>(() =>
            engine.ScoreAsync(File.ReadAllBytes(Path.Combine(s_parity, "image-0.png")), ["a red circle ."], _timeout.Token));

        Assert.Equal(RejectionReason.NotSupportedByModel, ex.Reason);
        Assert.Contains("no fusion graph", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheBpeTokenizerEncodesAndDecodesAsTheHuggingFaceTokenizer()
    {
        using var package = ModelPackageLoader.Load(new ModelOptions { Path = s_package, ExecutionProvider = ExecutionProviderKind.Cpu }, NullLogger.Instance);
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(s_parity, "tokenizer_cases.json")));
        var endOfText = package.Generation.EosTokenId;

        foreach (var tokenizerCase in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            var text = tokenizerCase.GetProperty("text").GetString()!;
            long[] ids = [.. tokenizerCase.GetProperty("ids").EnumerateArray().Select(id => id.GetInt64())];

            Assert.Equal([endOfText, .. ids, endOfText], package.Tokenizer.EncodeForScoring(text));
            Assert.Equal(text, package.Tokenizer.Decode([.. ids, endOfText]));
        }
    }
}
