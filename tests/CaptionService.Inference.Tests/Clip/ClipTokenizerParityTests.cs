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

    [Fact]
    public void RefusesTextsLongerThan77TokensWithTheirEnds()
    {
        var ex = Assert.Throws<InferenceRejectedException>(() => s_tokenizer.EncodeForScoring(string.Join(' ', Enumerable.Repeat("red", 76))));

        Assert.Equal(RejectionReason.TextTooLong, ex.Reason);
        Assert.Equal(77, s_tokenizer.EncodeForScoring(string.Join(' ', Enumerable.Repeat("red", 75))).Length);
    }

    [Fact]
    public void ATokenizerWithoutTheEndOfWordSuffixIsNotClip()
    {
        var ex = Assert.Throws<ModelPackageException>(() => ClipBpeTextTokenizer.Load(Path.Combine(TestPaths.RepositoryRoot, "tests", "data", "hf-reference", "vit-gpt2-image-captioning"), 77));

        Assert.Contains("</w>", ex.Message, StringComparison.Ordinal);
    }
}
