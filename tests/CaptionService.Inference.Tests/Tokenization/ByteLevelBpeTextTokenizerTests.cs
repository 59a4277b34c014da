using System.Text.Json;
using CaptionService.Inference.Tokenization;

namespace CaptionService.Inference.Tests.Tokenization;

public sealed class ByteLevelBpeTextTokenizerTests : IDisposable
{
    private const long EndOfText = 14;
    private readonly string _directory = Directory.CreateTempSubdirectory("bpe-").FullName;

    public ByteLevelBpeTextTokenizerTests()
    {
        // A GPT-2 byte-level vocabulary: "Ġ" is the byte-level form of a leading space. Every merge's
        // parts and result are in it, as BPE needs ("ed" for the "e d" and "Ġr ed" merges).
        var vocabulary = new Dictionary<string, int>
        {
            ["a"] = 0, ["b"] = 1, ["c"] = 2, ["d"] = 3, ["e"] = 4, ["r"] = 5, ["Ġ"] = 6,
            ["re"] = 7, ["red"] = 8, ["Ġa"] = 9, ["Ġc"] = 10, ["Ġr"] = 11, ["Ġred"] = 12, ["ab"] = 13,
            ["<|endoftext|>"] = (int)EndOfText, ["ed"] = 15,
        };
        File.WriteAllText(VocabPath, JsonSerializer.Serialize(vocabulary));
        File.WriteAllLines(MergesPath, ["#version: 0.2", "Ġ a", "Ġ c", "Ġ r", "r e", "re d", "Ġr ed", "a b", "e d"]);
    }

    private string VocabPath => Path.Combine(_directory, "vocab.json");

    private string MergesPath => Path.Combine(_directory, "merges.txt");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private ByteLevelBpeTextTokenizer Create(int maxLength = 32) =>
        new(VocabPath, MergesPath, maxLength, specialIds: [EndOfText], beginId: EndOfText, endId: EndOfText, paddingId: EndOfText, cleanUpSpaces: false);

    [Fact]
    public void EncodesWithMergesAndWrapsInTheEndOfTextToken()
    {
        var ids = Create().EncodeForScoring("red ab a");

        // "red" → re+d → red; " ab" → Ġ+a → Ġa, then b (no "Ġa b" merge); " a" → Ġa.
        Assert.Equal([EndOfText, 8, 9, 1, 9, EndOfText], ids);
    }

    [Fact]
    public void RoundTripsThroughByteLevelDecodingWithSpecialTokensSkipped()
    {
        var tokenizer = Create();

        var text = tokenizer.Decode(tokenizer.EncodeForScoring("red ab a"));

        Assert.Equal("red ab a", text);
        Assert.Equal(" red a", tokenizer.Decode([12, 9, EndOfText]));
    }

    [Fact]
    public void ATextOverTheLimitIsRejected()
    {
        var ex = Assert.Throws<InferenceRejectedException>(() => Create(maxLength: 4).EncodeForScoring("red ab a"));

        Assert.Equal(RejectionReason.TextTooLong, ex.Reason);
    }
}
