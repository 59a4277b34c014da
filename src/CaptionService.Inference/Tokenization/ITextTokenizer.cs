namespace CaptionService.Inference.Tokenization;

/// <summary>The package's tokenizer as the engine uses it: texts in for scoring, generated ids out as captions.</summary>
internal interface ITextTokenizer
{
    /// <summary>The longest token sequence, special tokens included, the model accepts.</summary>
    int MaxLength { get; }

    /// <summary>The id the fusion graph's padding positions hold.</summary>
    long PaddingId { get; }

    /// <summary>
    /// Normalises and encodes one text with the special tokens the fusion graph expects around it.
    /// </summary>
    /// <exception cref="InferenceRejectedException">The text is empty or longer than <see cref="MaxLength"/> tokens.</exception>
    long[] EncodeForScoring(string text);

    /// <summary>
    /// The words of <paramref name="text"/> that the vocabulary cannot spell, so that encoding
    /// turns them (or a piece of them) into the unknown token: each once, as written, in order.
    /// Empty for a tokenizer that can encode any text (byte-level BPE).
    /// </summary>
    IReadOnlyList<string> UnknownWords(string text);

    /// <summary>Decodes generated ids with special tokens skipped, spaced as the package's decoder spaces them.</summary>
    string Decode(ReadOnlySpan<long> ids);
}
