using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>
/// A package in the real vit-gpt2 layout, as `python3 -m training synth --preset vit-gpt2-mini`
/// writes it (about 10 s): the published configs and the 50,257-token GPT-2 tokenizer unchanged
/// (no max_length, a ViTFeatureExtractor), a 197-token ViT and a use_cache_branch decoder.
/// </summary>
public sealed class SynthesizedVitGpt2Tests(SynthesizedVitGpt2Tests.MiniPackage package) : IClassFixture<SynthesizedVitGpt2Tests.MiniPackage>, IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task LoadsThePublishedFilesAndCaptionsEachImageDifferently()
    {
        await using var engine = CaptionEngine.Create(
            new ModelOptions { Path = package.Path, ExecutionProvider = ExecutionProviderKind.Cpu },
            new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance);
        var parity = Path.Combine(TestPaths.Fixtures, "parity", "vit-gpt2-tiny");

        var first = await engine.CaptionAsync(File.ReadAllBytes(Path.Combine(parity, "image-0.png")), new GenerationOptions { MaxTokens = 16 }, _timeout.Token);
        var second = await engine.CaptionAsync(File.ReadAllBytes(Path.Combine(parity, "image-1.png")), new GenerationOptions { MaxTokens = 16 }, _timeout.Token);

        Assert.Equal(("vit-gpt2-mini", 224, 224, 50257), (engine.Model.Identity.Name, engine.Model.ImageHeight, engine.Model.ImageWidth, engine.Model.VocabularySize));
        Assert.Equal(19, engine.Model.MaxTokens); // generation_config.json has no max_length: Hugging Face's 20, start token included
        Assert.False(engine.Model.SupportsScoring);
        Assert.False(string.IsNullOrWhiteSpace(first.Caption));
        Assert.Equal(first.Caption.Trim(), first.Caption); // GPT-2's leading space is not part of the caption
        Assert.NotEqual(first.Caption, second.Caption);
    }

    /// <summary>
    /// The real export's files plus synthetic weights, as downloaded: without caption_service.json
    /// the manifest is inferred and the captions are the pinned package's.
    /// </summary>
    [Fact]
    public async Task LoadsAsItIsWithoutAManifestAndCaptionsTheSame()
    {
        using var copy = new TemporaryPackageCopy(package.Path);
        File.Delete(copy.ManifestPath);
        var options = new GenerationOptions { MaxTokens = 16, Beams = 2, Alternatives = 2 };
        var image = File.ReadAllBytes(Path.Combine(TestPaths.Fixtures, "parity", "vit-gpt2-tiny", "image-0.png"));

        await using var pinned = Create(package.Path);
        await using var inferred = Create(copy.Path);

        Assert.Equal("inferred", inferred.Model.ManifestSource);
        Assert.Equal(
            (await pinned.CaptionAsync(image, options, _timeout.Token)).Alternatives,
            (await inferred.CaptionAsync(image, options, _timeout.Token)).Alternatives);
    }

    /// <summary>
    /// HF exports may ship tokenizer.json without vocab.json and merges.txt: the server then reads the
    /// BPE vocabulary and merges from tokenizer.json's model section and captions the same.
    /// </summary>
    [Fact]
    public async Task LoadsWithTokenizerJsonAloneAndCaptionsTheSame()
    {
        using var copy = new TemporaryPackageCopy(package.Path);
        File.Delete(copy.ManifestPath);
        File.Delete(Path.Combine(copy.Path, "vocab.json"));
        File.Delete(Path.Combine(copy.Path, "merges.txt"));
        var options = new GenerationOptions { MaxTokens = 16, Beams = 2, Alternatives = 2 };
        var image = File.ReadAllBytes(Path.Combine(TestPaths.Fixtures, "parity", "vit-gpt2-tiny", "image-1.png"));

        await using var pinned = Create(package.Path);
        await using var inferred = Create(copy.Path);

        var tokenizer = System.Text.Json.Nodes.JsonNode.Parse(inferred.Model.ManifestJson)!["tokenizer"]!;
        Assert.Equal(("bpe", "tokenizer.json", null), (tokenizer["kind"]!.GetValue<string>(), tokenizer["vocab"]!.GetValue<string>(), tokenizer["merges"]));
        Assert.Equal(
            (await pinned.CaptionAsync(image, options, _timeout.Token)).Alternatives,
            (await inferred.CaptionAsync(image, options, _timeout.Token)).Alternatives);
    }

    private static CaptionEngine Create(string path) => CaptionEngine.Create(
        new ModelOptions { Path = path, ExecutionProvider = ExecutionProviderKind.Cpu },
        new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance);

    /// <summary>Generates the package once for the class, in a temporary directory.</summary>
    public sealed class MiniPackage() : SynthesizedPackage("vit-gpt2-mini");
}
