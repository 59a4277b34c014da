using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace CaptionService.Inference.Tokenization;

/// <summary>
/// BERT-style WordPiece from <c>vocab.txt</c>: basic tokenisation (lower-casing when the package
/// says so), <c>[CLS] … [SEP]</c> around scored texts, and a decoder that reproduces
/// transformers.js output for the package's decoder settings.
/// </summary>
internal sealed partial class WordPieceTextTokenizer : ITextTokenizer
{
    private const string ContinuationPrefix = "##";
    private readonly BertTokenizer _tokenizer;
    private readonly string[] _tokensById;
    private readonly HashSet<long> _specialIds;
    private readonly WordPieceDecoding _decoding;
    private readonly bool _cleanUpSpaces;

    public WordPieceTextTokenizer(
        string vocabPath, bool lowercase, int maxLength, IEnumerable<long> specialIds, WordPieceDecoding decoding, bool cleanUpSpaces)
    {
        _tokenizer = BertTokenizer.Create(vocabPath, new BertOptions
        {
            LowerCaseBeforeTokenization = lowercase,
            ApplyBasicTokenization = true,
            SplitOnSpecialTokens = true,
        });
        _tokensById = File.ReadAllLines(vocabPath);
        _specialIds = [.. specialIds, _tokenizer.ClassificationTokenId, _tokenizer.SeparatorTokenId, _tokenizer.PaddingTokenId, _tokenizer.MaskingTokenId];
        _decoding = decoding;
        _cleanUpSpaces = cleanUpSpaces;
        MaxLength = maxLength;
    }

    public int MaxLength { get; }

    public long PaddingId => _tokenizer.PaddingTokenId;

    public long[] EncodeForScoring(string text)
    {
        TokenizerLimits.RequireText(text);
        var ids = _tokenizer.EncodeToIds(text, addSpecialTokens: true);
        TokenizerLimits.RequireLength(ids.Count, MaxLength);
        return [.. ids.Select(id => (long)id)];
    }

    public IReadOnlyList<string> UnknownWords(string text)
    {
        var unknown = new List<string>();
        foreach (Match word in BasicWord().Matches(text))
        {
            // Each word alone, as BERT's basic tokenisation splits it: a word whose WordPiece
            // encoding holds [UNK] is one the model never saw, whatever surrounds it.
            if (_tokenizer.EncodeToIds(word.Value, addSpecialTokens: false).Contains(_tokenizer.UnknownTokenId)
                && !unknown.Contains(word.Value, StringComparer.Ordinal))
            {
                unknown.Add(word.Value);
            }
        }

        return unknown;
    }

    public string Decode(ReadOnlySpan<long> ids)
    {
        var text = new StringBuilder();
        foreach (var id in ids)
        {
            if (_specialIds.Contains(id))
            {
                continue;
            }

            var token = id >= 0 && id < _tokensById.Length ? _tokensById[id] : _tokenizer.UnknownToken;
            if (_decoding == WordPieceDecoding.MergeContinuations && token.StartsWith(ContinuationPrefix, StringComparison.Ordinal) && text.Length > 0)
            {
                text.Append(token, ContinuationPrefix.Length, token.Length - ContinuationPrefix.Length);
                continue;
            }

            if (text.Length > 0)
            {
                text.Append(' ');
            }

            text.Append(token);
        }

        var decoded = text.ToString();
        return _cleanUpSpaces ? SpacingCleanup.Apply(decoded) : decoded;
    }

    /// <summary>
    /// Words as BERT's basic tokenisation splits them: runs of letters, marks and digits, and every
    /// other non-space character (punctuation) on its own.
    /// </summary>
    [GeneratedRegex(@"[\p{L}\p{M}\p{N}]+|[^\s\p{L}\p{M}\p{N}]")]
    private static partial Regex BasicWord();
}
