using CaptionService.Inference.Explanation;

namespace CaptionService.Api.Contracts;

/// <summary>One word of an explained caption and where the decoder looked while it wrote it.</summary>
public sealed class ExplainedWord
{
    /// <summary>The word: one token of the model's tokenizer (a sub-word for BPE tokenizers).</summary>
    /// <example>square</example>
    public required string Word { get; init; }

    /// <summary>Its index among the caption's generated tokens, from 0 (the end token is not listed).</summary>
    /// <example>3</example>
    public required int Position { get; init; }

    /// <summary>
    /// The decoder's cross-attention at the step that chose the word, averaged over the heads the model
    /// package names for explanations (<c>decoder.cross_attention_heads</c>), or over every head of every layer.
    /// </summary>
    public required HeatMap Map { get; init; }

    internal static ExplainedWord From(WordAttention word) => new() { Word = word.Word, Position = word.Position, Map = HeatMap.From(word.Map) };
}
