using System.Text.Json.Serialization;

namespace CaptionService.Api.Contracts;

/// <summary>One statement and the probability that it is true of the image.</summary>
public sealed class ScoredText
{
    /// <summary>The statement, as sent.</summary>
    /// <example>a red square is to the left of a blue circle .</example>
    public required string Text { get; init; }

    /// <summary>
    /// Score in [0, 1]. With a fusion model: the probability that the statement is true of the image
    /// (sigmoid of the fusion logit), independent of the other texts. With a CLIP model: the softmax over
    /// this request's texts of logit_scale × <c>similarity</c>, so the scores sum to 1 (what zero-shot
    /// image classification returns).
    /// </summary>
    /// <example>0.97</example>
    public required double Score { get; init; }

    /// <summary>
    /// The words of the text the model's vocabulary does not know, each once, as written; they were
    /// scored as the unknown token, so the score does not judge them. Empty when every word is known.
    /// </summary>
    /// <example>[]</example>
    public required IReadOnlyList<string> UnknownWords { get; init; }

    /// <summary>CLIP models only: the cosine similarity in [-1, 1] of the text and image embeddings. Absent for fusion models.</summary>
    /// <example>0.31</example>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Similarity { get; init; }

    /// <summary>
    /// With <c>explain=true</c> only (absent otherwise): the fusion graph's cross-attention over the
    /// image for this text, the mean over its word tokens (not <c>[CLS]</c>, <c>[SEP]</c>) and every
    /// head of every layer. Where the scorer read the image, not whether what it read there is true.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public HeatMap? Evidence { get; init; }
}
