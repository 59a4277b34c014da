using CaptionService.Inference.Tokenization;

namespace CaptionService.Inference.Tests.Tokenization;

public sealed class WordPieceTextTokenizerTests : IDisposable
{
    // Ids are line numbers: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4 .=5 a=6 red=7 square=8 is=9 left=10 ##most=11 blue=12
    private static readonly string[] s_vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "a", "red", "square", "is", "left", "##most", "blue"];
    private readonly string _vocabPath = Path.Combine(Path.GetTempPath(), $"vocab-{Guid.NewGuid():N}.txt");

    public WordPieceTextTokenizerTests() => File.WriteAllLines(_vocabPath, s_vocabulary);

    public void Dispose() => File.Delete(_vocabPath);

    private WordPieceTextTokenizer Create(int maxLength = 32, WordPieceDecoding decoding = WordPieceDecoding.MergeContinuations, bool cleanUp = false) =>
        new(_vocabPath, lowercase: true, maxLength, specialIds: [0, 1, 2, 3, 4], decoding, cleanUp);

    [Fact]
    public void EncodesLowerCasedWordsAndPunctuationBetweenClsAndSep()
    {
        var ids = Create().EncodeForScoring("A RED square is LEFTMOST.");

        Assert.Equal([2, 6, 7, 8, 9, 10, 11, 5, 3], ids);
    }

    [Fact]
    public void DecodingSkipsSpecialTokensAndJoinsContinuationsLikeTheWordPieceDecoder()
    {
        var text = Create().Decode([6, 7, 8, 9, 10, 11, 5, 3, 0]);

        Assert.Equal("a red square is leftmost .", text);
    }

    [Fact]
    public void NamesEveryUnknownWordOnceAsWrittenAndNoKnownOne()
    {
        // "Of" twice (once capitalised as written first), "dog", a word with a digit, an accented
        // word and a symbol the vocabulary lacks; "LEFTMOST" is known as left + ##most, "." is known.
        var unknown = Create().UnknownWords("A red Of square is LEFTMOST of a dog, b2 café # blue square .");

        Assert.Equal(["Of", "of", "dog", ",", "b2", "café", "#"], unknown);
    }

    [Fact]
    public void ATextOfKnownWordsHasNoUnknownWords()
    {
        Assert.Empty(Create().UnknownWords("A RED square is LEFTMOST."));
    }

    [Fact]
    public void RoundTripsAShapeWorldCaption()
    {
        var tokenizer = Create();
        const string Caption = "a red square is left of a blue square .";
        var withUnknown = tokenizer.EncodeForScoring(Caption);

        // "of" is not in the vocabulary: it comes back as [UNK], which is special and skipped.
        Assert.Equal("a red square is left a blue square .", tokenizer.Decode(withUnknown));
        Assert.Equal("a red square is left .", tokenizer.Decode(tokenizer.EncodeForScoring("a red square is left .")));
    }

    [Fact]
    public void WithoutADecoderTokensAreJoinedWithSpaces()
    {
        Assert.Equal("left ##most", Create(decoding: WordPieceDecoding.JoinWithSpaces).Decode([10, 11]));
    }

    [Fact]
    public void CleanUpRemovesTheSpaceBeforePunctuationOnlyWhenTheConfigAsks()
    {
        Assert.Equal("a red square.", Create(cleanUp: true).Decode([6, 7, 8, 5]));
        Assert.Equal("a red square .", Create(cleanUp: false).Decode([6, 7, 8, 5]));
    }

    [Fact]
    public void ATextOverTheLimitIsRejectedNamingTheLimit()
    {
        var ex = Assert.Throws<InferenceRejectedException>(() => Create(maxLength: 5).EncodeForScoring("a red square is blue"));

        Assert.Equal(RejectionReason.TextTooLong, ex.Reason);
        Assert.Contains("7 tokens", ex.Message, StringComparison.Ordinal);
        Assert.Contains("at most 5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyTextIsRejected()
    {
        var ex = Assert.Throws<InferenceRejectedException>(() => Create().EncodeForScoring("   "));

        Assert.Equal(RejectionReason.InvalidOption, ex.Reason);
    }
}
