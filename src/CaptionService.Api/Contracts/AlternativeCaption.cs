using System.Text.Json.Serialization;

namespace CaptionService.Api.Contracts;

/// <summary>One generated caption and how likely the model found it.</summary>
public sealed class AlternativeCaption
{
    /// <summary>The caption.</summary>
    /// <example>a red square is to the left of a blue circle .</example>
    public required string Caption { get; init; }

    /// <summary>Natural-log probability of the whole caption, end-of-sequence token included; closer to 0 is likelier.</summary>
    /// <example>-0.87</example>
    public required double LogProb { get; init; }

    /// <summary>
    /// Beam search only (absent otherwise): the score the captions are ranked by, as Hugging Face
    /// transformers' <c>sequences_scores</c>: the log-probabilities after <c>repetitionPenalty</c>,
    /// <c>noRepeatNgramSize</c> and <c>minTokens</c>, summed and divided by (token count ^ <c>lengthPenalty</c>).
    /// </summary>
    /// <example>-0.29</example>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Score { get; init; }

    /// <summary>
    /// With <c>verify=true</c> only (absent otherwise): the fusion graph's probability in [0, 1] that
    /// this caption is true of the image, the evidence verified captions are reranked by.
    /// </summary>
    /// <example>0.98</example>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? FusionScore { get; init; }
}
