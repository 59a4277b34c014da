using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Preprocessing;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>
/// The published vit-gpt2 configs (tests/data/hf-reference) read as they are: a generation config
/// without <c>max_length</c> and a preprocessor that calls itself <c>ViTFeatureExtractor</c>.
/// </summary>
public sealed class HfReferenceConfigTests
{
    private static readonly string s_vitGpt2 = Path.Combine(TestPaths.RepositoryRoot, "tests", "data", "hf-reference", "vit-gpt2-image-captioning");

    [Fact]
    public void TheVitGpt2ConfigsReadWithHuggingFaceDefaults()
    {
        var model = PackageJson.Read<ModelConfig>(s_vitGpt2, "config.json");
        var generation = PackageJson.Read<GenerationConfig>(s_vitGpt2, "generation_config.json");

        Assert.Equal(("vision-encoder-decoder", true, "gpt2", 50257, 1024), (model.ModelType, model.IsEncoderDecoder, model.Decoder.ModelType, model.Decoder.VocabSize, model.Decoder.NPositions));
        Assert.Equal((50256L, 50256L, 20, 50256L, 50256L), (generation.DecoderStartTokenId, generation.EosTokenId, generation.MaxLength, generation.BosTokenId, generation.PadTokenId));
    }

    [Fact]
    public void TheViTFeatureExtractorConfigGivesTheViTTransform()
    {
        var path = Path.Combine(s_vitGpt2, "preprocessor_config.json");
        var transform = ImageTransform.FromConfig(PackageJson.Read<PreprocessorConfig>(s_vitGpt2, "preprocessor_config.json"), path, 224, 224);

        Assert.Equal((224, 224, true), (transform.Height, transform.Width, transform.Resize));
        Assert.Equal(-1f, transform.Normalise(0, 0));
        Assert.Equal(1f, transform.Normalise(2, 255));
    }
}
