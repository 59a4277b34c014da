using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace CaptionService.Inference.Tokenization;

/// <summary>
/// GPT-2 byte-level BPE from <c>vocab.json</c> + <c>merges.txt</c>, or from the <c>model</c> section
/// of <c>tokenizer.json</c> (<see cref="TokenizerJsonBpe"/>), through <see cref="BpeTokenizer"/> with
/// GPT-2's own pre-tokenizer, so that ids are transformers.js's (Hugging Face tokenizers' ByteLevel).
/// Scored texts are wrapped in the package's begin/end tokens when it has them.
/// </summary>
internal sealed partial class ByteLevelBpeTextTokenizer : ITextTokenizer
{
    private readonly BpeTokenizer _tokenizer;
    private readonly HashSet<long> _specialIds;
    private readonly long? _beginId;
    private readonly long? _endId;
    private readonly bool _cleanUpSpaces;

    public ByteLevelBpeTextTokenizer(
        string vocabPath, string mergesPath, int maxLength, IEnumerable<long> specialIds, long? beginId, long? endId, long paddingId, bool cleanUpSpaces)
        : this(new BpeOptions(vocabPath, mergesPath), maxLength, specialIds, beginId, endId, paddingId, cleanUpSpaces)
    {
    }

    /// <summary>From a vocabulary and merges (only those two are read), for instance <see cref="TokenizerJsonBpe.Read"/>.</summary>
    public ByteLevelBpeTextTokenizer(
        BpeOptions vocabularyAndMerges, int maxLength, IEnumerable<long> specialIds, long? beginId, long? endId, long paddingId, bool cleanUpSpaces)
    {
        _specialIds = [.. specialIds];
        _tokenizer = CreateGpt2(vocabularyAndMerges, _specialIds);
        _beginId = beginId;
        _endId = endId;
        _cleanUpSpaces = cleanUpSpaces;
        PaddingId = paddingId;
        MaxLength = maxLength;
    }

    /// <summary>
    /// GPT-2's pre-tokenizer regex (Hugging Face tokenizers' ByteLevel with use_regex). Its
    /// <c>\s+(?!\S)</c> leaves a run's last space to the next word, so runs of spaces and tabs
    /// come out as GPT-2's single-space and tab ids; Microsoft.ML.Tokenizers' CodeGenTokenizer
    /// instead spells them with CodeGen's extra whitespace tokens (ids 50257 and up), which a
    /// GPT-2 vocabulary does not have.
    /// </summary>
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    private static partial Regex Gpt2PreTokenizerPattern();

    /// <summary>
    /// The one place that builds the BPE: byte level, no prefix space, GPT-2's pre-tokenizer, and the
    /// special tokens the vocabulary spells (such as <c>&lt;|endoftext|&gt;</c>) kept whole in texts,
    /// as transformers.js keeps a tokenizer.json's added tokens.
    /// </summary>
    private static BpeTokenizer CreateGpt2(BpeOptions vocabularyAndMerges, HashSet<long> specialIds)
    {
        var specialTokens = vocabularyAndMerges.Vocabulary
            .Where(entry => specialIds.Contains(entry.Value))
            .ToDictionary(entry => entry.Key, entry => entry.Value);
        return BpeTokenizer.Create(new BpeOptions(vocabularyAndMerges.Vocabulary)
        {
            Merges = vocabularyAndMerges.Merges,
            SpecialTokens = specialTokens,
            PreTokenizer = new RegexPreTokenizer(Gpt2PreTokenizerPattern(), specialTokens),
            ByteLevel = true,
        });
    }

    public int MaxLength { get; }

    public long PaddingId { get; }

    public long[] EncodeForScoring(string text)
    {
        TokenizerLimits.RequireText(text);
        var ids = _tokenizer.EncodeToIds(text);
        var length = ids.Count + (_beginId.HasValue ? 1 : 0) + (_endId.HasValue ? 1 : 0);
        TokenizerLimits.RequireLength(length, MaxLength);
        var encoded = new List<long>(length);
        if (_beginId is { } begin)
        {
            encoded.Add(begin);
        }

        encoded.AddRange(ids.Select(id => (long)id));
        if (_endId is { } end)
        {
            encoded.Add(end);
        }

        return [.. encoded];
    }

    /// <summary>Byte-level BPE spells every text: no word is unknown.</summary>
    public IReadOnlyList<string> UnknownWords(string text) => [];

    public string Decode(ReadOnlySpan<long> ids)
    {
        var kept = new List<int>(ids.Length);
        foreach (var id in ids)
        {
            if (!_specialIds.Contains(id))
            {
                kept.Add(checked((int)id));
            }
        }

        var decoded = _tokenizer.Decode(kept, considerSpecialTokens: false);
        return _cleanUpSpaces ? SpacingCleanup.Apply(decoded) : decoded;
    }
}
