using Microsoft.ML.Tokenizers;

namespace CaptionService.Inference.Tokenization;

/// <summary>
/// GPT-2 byte-level BPE from <c>vocab.json</c> + <c>merges.txt</c>, or from the <c>model</c> section
/// of <c>tokenizer.json</c> (<see cref="TokenizerJsonBpe"/>), through <see cref="CodeGenTokenizer"/>.
/// Scored texts are wrapped in the package's begin/end tokens when it has them.
/// </summary>
internal sealed class ByteLevelBpeTextTokenizer : ITextTokenizer
{
    private readonly CodeGenTokenizer _tokenizer;
    private readonly HashSet<long> _specialIds;
    private readonly long? _beginId;
    private readonly long? _endId;
    private readonly bool _cleanUpSpaces;

    public ByteLevelBpeTextTokenizer(
        string vocabPath, string mergesPath, int maxLength, IEnumerable<long> specialIds, long? beginId, long? endId, long paddingId, bool cleanUpSpaces)
        : this(OpenFiles(vocabPath, mergesPath), maxLength, specialIds, beginId, endId, paddingId, cleanUpSpaces)
    {
    }

    /// <summary>From vocab.json and merges.txt contents (streams disposed here), for instance <see cref="TokenizerJsonBpe.Read"/>.</summary>
    public ByteLevelBpeTextTokenizer(
        (Stream Vocab, Stream Merges) files, int maxLength, IEnumerable<long> specialIds, long? beginId, long? endId, long paddingId, bool cleanUpSpaces)
    {
        using (files.Vocab)
        using (files.Merges)
        {
            _tokenizer = CodeGenTokenizer.Create(files.Vocab, files.Merges, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false);
        }

        _specialIds = [.. specialIds];
        _beginId = beginId;
        _endId = endId;
        _cleanUpSpaces = cleanUpSpaces;
        PaddingId = paddingId;
        MaxLength = maxLength;
    }

    public int MaxLength { get; }

    private static (Stream Vocab, Stream Merges) OpenFiles(string vocabPath, string mergesPath)
    {
        var vocab = File.OpenRead(vocabPath);
        try
        {
            return (vocab, File.OpenRead(mergesPath));
        }
        catch
        {
            vocab.Dispose();
            throw;
        }
    }

    public long PaddingId { get; }

    public long[] EncodeForScoring(string text)
    {
        TokenizerLimits.RequireText(text);
        var ids = _tokenizer.EncodeToIds(text, addPrefixSpace: false, addBeginningOfSentence: false, addEndOfSentence: false);
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

        var decoded = _tokenizer.Decode(kept, hasPrefixSpace: false, considerSpecialTokens: false);
        return _cleanUpSpaces ? SpacingCleanup.Apply(decoded) : decoded;
    }
}
