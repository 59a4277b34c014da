using System.Text.Json;
using CaptionService.Inference.Tokenization;

namespace CaptionService.Inference.Tests.Tokenization;

/// <summary>
/// GPT-2's byte-level BPE read from tokenizer.json alone (the real Xenova/vit-gpt2-image-captioning
/// file, 50,257 tokens and 50,000 merges) encodes as transformers.js 4.3.1 does
/// (tests/fixtures/gpt2-tokenizer/transformersjs.json, from tests/peer/gpt2-tokenizer-reference.mjs)
/// and as the same vocabulary and merges given as vocab.json + merges.txt.
/// </summary>
public sealed class TokenizerJsonBpeTests : IDisposable
{
    private static readonly string s_real = Path.Combine(TestPaths.RepositoryRoot, "tests", "data", "hf-reference", "vit-gpt2-image-captioning");
    private static readonly JsonElement s_reference = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(TestPaths.Fixtures, "gpt2-tokenizer", "transformersjs.json"))).RootElement;

    private static readonly string[] s_texts = [.. s_reference.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("text").GetString()!)];

    private static readonly ByteLevelBpeTextTokenizer s_fromTokenizerJson = Raw(TokenizerJsonBpe.Read(s_real));
    private readonly string _files = Path.Combine(Path.GetTempPath(), "caption-engine-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_files))
        {
            Directory.Delete(_files, recursive: true);
        }
    }

    /// <summary>All the reference texts, runs of spaces, tabs and newlines included.</summary>
    public static TheoryData<string> Texts() => [.. s_texts];

    /// <summary>
    /// The reference keeps texts with runs of whitespace, which GPT-2's pre-tokenizer splits as
    /// <c>\s+(?!\S)</c> does (a run's last space stays with the next word) and which a tokenizer with
    /// other whitespace rules (CodeGen's extra whitespace-run tokens, ids 50257 and up) gets wrong.
    /// </summary>
    [Fact]
    public void TheReferenceHasRunsOfSpacesTabsAndNewlines()
    {
        Assert.Contains(s_texts, t => t.Contains("  ", StringComparison.Ordinal));
        Assert.Contains(s_texts, t => t.Contains("\t\t", StringComparison.Ordinal));
        Assert.Contains(s_texts, t => t.Contains("\n\n", StringComparison.Ordinal));
        Assert.Contains(s_texts, t => t.EndsWith("  ", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void GivesTransformersJsIds(string text)
    {
        var expected = s_reference.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("text").GetString() == text)
            .GetProperty("ids").EnumerateArray().Select(e => e.GetInt64());

        Assert.Equal(expected, s_fromTokenizerJson.EncodeForScoring(text));
    }

    /// <summary>Decoding spells the text again, whitespace runs and multi-byte characters included.</summary>
    [Theory]
    [MemberData(nameof(Texts))]
    public void DecodesItsIdsBackToTheText(string text)
    {
        var ids = s_fromTokenizerJson.EncodeForScoring(text);

        Assert.All(ids, id => Assert.InRange(id, 0, 50256));
        Assert.Equal(text.Replace("<|endoftext|>", "", StringComparison.Ordinal), s_fromTokenizerJson.Decode(ids));
    }

    [Fact]
    public void GivesTheIdsOfTheVocabJsonAndMergesTxtFiles()
    {
        // vocab.json and merges.txt written from tokenizer.json as GPT-2's repositories hold them.
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(s_real, "tokenizer.json")));
        var model = document.RootElement.GetProperty("model");
        Directory.CreateDirectory(_files);
        var vocabPath = Path.Combine(_files, "vocab.json");
        var mergesPath = Path.Combine(_files, "merges.txt");
        File.WriteAllText(vocabPath, JsonSerializer.Serialize(model.GetProperty("vocab").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32())));
        File.WriteAllLines(mergesPath, ["#version: 0.2", .. model.GetProperty("merges").EnumerateArray().Select(m => m.GetString()!)]);
        var fromFiles = new ByteLevelBpeTextTokenizer(vocabPath, mergesPath, 1024, [50256], null, null, 50256, cleanUpSpaces: false);

        foreach (var text in s_texts)
        {
            Assert.Equal(fromFiles.EncodeForScoring(text), s_fromTokenizerJson.EncodeForScoring(text));
        }

        Assert.Equal(50257, model.GetProperty("vocab").EnumerateObject().Count());
    }

    /// <summary>No begin/end tokens around scored texts, so that ids are the tokenizer's own.</summary>
    private static ByteLevelBpeTextTokenizer Raw(Microsoft.ML.Tokenizers.BpeOptions vocabularyAndMerges) =>
        new(vocabularyAndMerges, 1024, [50256], null, null, 50256, cleanUpSpaces: false);
}
