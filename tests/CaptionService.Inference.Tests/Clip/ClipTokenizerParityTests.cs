using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Tokenization;

namespace CaptionService.Inference.Tests.Clip;

public sealed class ClipTokenizerParityTests
{
    private static readonly ClipBpeTextTokenizer s_tokenizer = ClipBpeTextTokenizer.Load(ClipReference.Package, maxLength: 77);

    public static TheoryData<string> Texts() => [.. ClipReference.TransformersJs.Tokenizer.Select(t => t.Text)];

    [Theory]
    [MemberData(nameof(Texts))]
    public void GivesTransformersJsIds(string text)
    {
        var expected = ClipReference.TransformersJs.Tokenizer.Single(t => t.Text == text).Ids;

        Assert.Equal(expected, s_tokenizer.EncodeForScoring(text));
    }

    [Fact]
    public void RealVocabularyWrapsTextsInStartAndEndOfText()
    {
        // Ids from Xenova/clip-vit-base-patch32's tokenizer.json: "a</w>" 320, "photo</w>" 1125, "of</w>" 539, "cat</w>" 2368.
        Assert.Equal([49406, 320, 1125, 539, 320, 2368, 49407], s_tokenizer.EncodeForScoring("A photo of a CAT"));
        Assert.Equal(49407, s_tokenizer.PaddingId);
    }

    public static TheoryData<string> LongTexts() => [.. ClipReference.TransformersJs.Truncation.Tokenizer.Select(t => t.Text)];

    /// <summary>75 words fit with both special tokens; 76 and more are cut at 77 ids, the end token dropped, as transformers.js cuts them.</summary>
    [Theory]
    [MemberData(nameof(LongTexts))]
    public void TruncatesTextsOver77TokensAsTheZeroShotPipelineDoes(string text)
    {
        var expected = ClipReference.TransformersJs.Truncation.Tokenizer.Single(t => t.Text == text).Ids;

        var encoded = s_tokenizer.EncodeForScoring(text);

        Assert.Equal(expected, encoded);
        Assert.Equal(77, encoded.Length);
        Assert.Equal(expected[^1] != s_tokenizer.PaddingId, s_tokenizer.WasTruncated(encoded));
    }

    [Fact]
    public void ATokenizerWithoutTheEndOfWordSuffixIsNotClip()
    {
        var ex = Assert.Throws<ModelPackageException>(() => ClipBpeTextTokenizer.Load(Path.Combine(TestPaths.RepositoryRoot, "tests", "data", "hf-reference", "vit-gpt2-image-captioning"), 77));

        Assert.Contains("</w>", ex.Message, StringComparison.Ordinal);
    }
}
