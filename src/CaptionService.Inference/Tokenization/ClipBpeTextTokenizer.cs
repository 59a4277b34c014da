using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CaptionService.Inference.ModelPackage;
using Microsoft.ML.Tokenizers;

namespace CaptionService.Inference.Tokenization;

/// <summary>
/// CLIP's tokenizer as its <c>tokenizer.json</c> describes it, through Microsoft.ML.Tokenizers'
/// <see cref="BpeTokenizer"/>: NFC, runs of whitespace to one space, lower case; words, single
/// digits, contractions and punctuation runs split off (the Split pattern below); byte-level BPE
/// with the <c>&lt;/w&gt;</c> end-of-word suffix; every text wrapped in
/// <c>&lt;|startoftext|&gt;</c> … <c>&lt;|endoftext|&gt;</c>, at most 77 tokens. A longer text is
/// truncated as transformers.js's zero-shot pipeline truncates it (<c>truncation: true</c>, which
/// cuts the ids at <c>model_max_length</c> after the special tokens were added): its first 77 ids,
/// the start token and 76 of the text's, without the end token.
/// </summary>
internal sealed partial class ClipBpeTextTokenizer : ITextTokenizer
{
    public const string StartToken = "<|startoftext|>";
    public const string EndToken = "<|endoftext|>";

    private readonly BpeTokenizer _tokenizer;
    private readonly int _startId;
    private readonly int _endId;

    private ClipBpeTextTokenizer(BpeTokenizer tokenizer, int startId, int endId, int maxLength)
    {
        _tokenizer = tokenizer;
        _startId = startId;
        _endId = endId;
        MaxLength = maxLength;
    }

    public int MaxLength { get; }

    /// <summary>CLIP pads with <c>&lt;|endoftext|&gt;</c>; the end-of-text pooling takes the first one.</summary>
    public long PaddingId => _endId;

    /// <summary>Reads the vocabulary and merges of <c>tokenizer.json</c>'s BPE model (vocab.json and merges.txt hold the same).</summary>
    /// <exception cref="ModelPackageException">The file is not a CLIP BPE tokenizer.</exception>
    public static ClipBpeTextTokenizer Load(string packageDirectory, int maxLength)
    {
        var path = Path.Combine(packageDirectory, "tokenizer.json");
        using var document = PackageJson.ReadDocument(packageDirectory, "tokenizer.json");
        if (!document.RootElement.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object
            || !model.TryGetProperty("type", out var type) || type.GetString() != "BPE"
            || !model.TryGetProperty("vocab", out var vocabElement) || vocabElement.ValueKind != JsonValueKind.Object
            || !model.TryGetProperty("merges", out var mergesElement) || mergesElement.ValueKind != JsonValueKind.Array)
        {
            throw new ModelPackageException($"Model package file '{path}' has no BPE model with a vocab and merges.");
        }

        var suffix = model.TryGetProperty("end_of_word_suffix", out var suffixElement) ? suffixElement.GetString() : null;
        if (suffix != "</w>")
        {
            throw new ModelPackageException($"Model package file '{path}': end_of_word_suffix is '{suffix}'; a CLIP tokenizer has '</w>'.");
        }

        var vocabulary = vocabElement.EnumerateObject().Select(p => new KeyValuePair<string, int>(p.Name, p.Value.GetInt32())).ToList();
        // Merges are "a b" strings (older files) or ["a", "b"] pairs (newer ones).
        var merges = mergesElement.EnumerateArray()
            .Select(m => m.ValueKind == JsonValueKind.Array ? $"{m[0].GetString()} {m[1].GetString()}" : m.GetString()!)
            .ToList();
        var ids = vocabulary.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        if (!ids.TryGetValue(StartToken, out var startId) || !ids.TryGetValue(EndToken, out var endId))
        {
            throw new ModelPackageException($"Model package file '{path}' has no {StartToken} or {EndToken} in its vocabulary.");
        }

        try
        {
            var tokenizer = BpeTokenizer.Create(new BpeOptions(vocabulary)
            {
                Merges = merges,
                ByteLevel = true,
                EndOfWordSuffix = suffix,
                UnknownToken = EndToken,
                Normalizer = new ClipNormalizer(),
                PreTokenizer = new RegexPreTokenizer(ClipSplit(), specialTokens: null),
            });
            return new ClipBpeTextTokenizer(tokenizer, startId, endId, maxLength);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new ModelPackageException($"Model package file '{path}' cannot be loaded as a tokenizer: {ex.Message}", ex);
        }
    }

    public long[] EncodeForScoring(string text)
    {
        TokenizerLimits.RequireText(text);
        var ids = _tokenizer.EncodeToIds(text);
        var truncated = ids.Count + 2 > MaxLength;
        var encoded = new long[truncated ? MaxLength : ids.Count + 2];
        encoded[0] = _startId;
        for (var i = 1; i < encoded.Length; i++)
        {
            encoded[i] = i <= ids.Count ? ids[i - 1] : _endId;
        }

        return encoded;
    }

    /// <summary>True when <see cref="EncodeForScoring"/> cut the text (its ids do not end with the end token).</summary>
    public bool WasTruncated(ReadOnlySpan<long> encoded) => encoded[^1] != _endId;

    /// <summary>CLIP's BPE works on bytes: no word is unknown.</summary>
    public IReadOnlyList<string> UnknownWords(string text) => [];

    public string Decode(ReadOnlySpan<long> ids)
    {
        var kept = new List<int>(ids.Length);
        foreach (var id in ids)
        {
            if (id != _startId && id != _endId)
            {
                kept.Add(checked((int)id));
            }
        }

        return (_tokenizer.Decode(kept) ?? string.Empty).Replace("</w>", " ", StringComparison.Ordinal).Trim();
    }

    /// <summary>tokenizer.json's Split pre-tokenizer (matches kept, everything between them dropped).</summary>
    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+")]
    private static partial Regex ClipSplit();

    /// <summary>tokenizer.json's normalizer sequence: NFC, every whitespace run to one space, lower case.</summary>
    private sealed partial class ClipNormalizer : Normalizer
    {
        public override string Normalize(string original) =>
            Whitespace().Replace(original.Normalize(NormalizationForm.FormC), " ").ToLowerInvariant();

        public override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());

        [GeneratedRegex(@"\s+")]
        private static partial Regex Whitespace();
    }
}
