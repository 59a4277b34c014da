using CaptionService.Inference.Encoding;

namespace CaptionService.Inference.Scoring;

/// <summary>One score request in the score stage: its image's encoder state and its texts, already tokenized.</summary>
internal sealed record ScoreJob(EncoderState EncoderState, IReadOnlyList<long[]> TokenizedTexts);
