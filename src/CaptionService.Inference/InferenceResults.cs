using CaptionService.Inference.Explanation;

namespace CaptionService.Inference;

/// <summary>Name and version of the loaded package, as its manifest states them.</summary>
public sealed record ModelIdentity(string Name, string Version);

/// <summary>
/// Everything <c>GET /model</c> reports. <paramref name="DecoderState"/> is where the caption
/// decoder keeps its state between steps, resolved for the provider in use (never
/// <see cref="DecoderStateKind.Auto"/>); null for a package without a caption decoder.
/// </summary>
public sealed record ModelInfo(
    ModelIdentity Identity,
    string ExecutionProvider,
    int ImageHeight,
    int ImageWidth,
    int VocabularySize,
    int MaxTokens,
    bool SupportsScoring,
    BatchingSettings Batching,
    string ManifestSource,
    string ManifestJson,
    ModelKind Kind = ModelKind.Captioning,
    string Dtype = ModelDtypes.Default,
    bool ExplainsCaptions = false,
    bool ExplainsScores = false,
    DecoderStateKind? DecoderState = null);

/// <summary>What a package can do: caption (<c>/caption</c>), score (<c>/score</c>), or both.</summary>
public enum ModelKind
{
    /// <summary>An image-to-text package without a fusion graph.</summary>
    Captioning,

    /// <summary>A scoring-only package (CLIP).</summary>
    Scoring,

    /// <summary>An image-to-text package with a fusion graph.</summary>
    Both,
}

/// <summary>
/// The batching settings in force; <see cref="MaxDecodingRows"/> and <see cref="GreedyReservedRows"/>
/// as resolved for the loaded decoder (no rows are reserved when requests do not join running batches),
/// <see cref="BeamSearchDeferral"/> as resolved from the request timeout (zero for a model without beam search).
/// </summary>
public sealed record BatchingSettings(
    int MaxBatchSize,
    TimeSpan MaxQueueDelay,
    int MaxQueueSize,
    TimeSpan RequestTimeout,
    int MaxDecodingRows,
    int GreedyReservedRows = 0,
    TimeSpan BeamSearchDeferral = default);

/// <summary>
/// Where one request's time went, in milliseconds. <see cref="CaptionQueueMs"/> (captions only) is
/// the part of <see cref="QueueMs"/> between the image's encoding and the first decoder step.
/// </summary>
public sealed record Timings(double QueueMs, double PreprocessMs, double InferenceMs, double TotalMs, double? CaptionQueueMs = null);

/// <summary>
/// One generated caption and its total log-probability (natural log, summed over its tokens
/// including end-of-sequence). Beam search also gives <paramref name="Score"/>, the score it ranked
/// the caption by, as transformers' <c>sequences_scores</c>: processed log-probabilities summed,
/// divided by (token count ^ length penalty); null for greedy decoding and sampling.
/// </summary>
/// <paramref name="FusionScore"/> is the fusion graph's probability that the caption is true of
/// the image, given when the request asked for verification.
public sealed record CaptionAlternative(string Caption, double LogProb, double? Score = null, double? FusionScore = null);

/// <summary>
/// How far an image's encoder features lie from the scenes the package was calibrated on
/// (Mahalanobis distance), and the package's threshold: above it the image is out of distribution.
/// </summary>
public sealed record ImageDistance(double Distance, double Threshold)
{
    public bool OutOfDistribution => Distance > Threshold;
}

/// <summary>
/// The answer to a caption request. <see cref="Confidence"/> is the geometric mean of the chosen
/// caption's token probabilities: exp(LogProb / token count). <see cref="Verification"/> is the
/// chosen caption's fusion score when the request asked for verification;
/// <see cref="ImageDistance"/> is there when the package has scene statistics;
/// <see cref="Repetition"/> when the chosen caption is degenerate (<see cref="Generation.RepetitionCheck"/>);
/// <see cref="Explanation"/> when the request asked for it: the chosen caption's words, each with
/// its cross-attention map (<see cref="CaptionExplainer"/>).
/// </summary>
public sealed record CaptionResult(
    string Caption,
    double Confidence,
    IReadOnlyList<CaptionAlternative> Alternatives,
    ModelIdentity Model,
    Timings Timings,
    double? Verification = null,
    ImageDistance? ImageDistance = null,
    Generation.Repetition? Repetition = null,
    IReadOnlyList<WordAttention>? Explanation = null);

/// <summary>
/// One text and its score in [0,1], and the words of it the tokenizer does not know (it scored
/// them as its unknown token). A fusion package's score is the probability that the text is true
/// of the image (sigmoid), independent of the other texts. A CLIP package's is the softmax over the
/// request's texts of logit_scale × <paramref name="Similarity"/> (the texts' scores sum to 1), and
/// <paramref name="Similarity"/> is the cosine between the text and image embeddings.
/// </summary>
/// <paramref name="Truncated"/>: the text was longer than the model takes (CLIP: 77 tokens) and only its beginning was scored.
/// <paramref name="Evidence"/> is the text's evidence map when the request asked for an explanation (<see cref="ScoreExplainer"/>).
public sealed record TextScore(
    string Text, double Score, IReadOnlyList<string> UnknownWords, double? Similarity = null, bool Truncated = false, AttentionMap? Evidence = null);

/// <summary>The answer to a score request, in the order of the texts sent; <see cref="ImageDistance"/> as for captions.</summary>
public sealed record ScoreResult(IReadOnlyList<TextScore> Scores, ModelIdentity Model, Timings Timings, ImageDistance? ImageDistance = null);
