using CaptionService.Inference.Encoding;

namespace CaptionService.Inference.Generation;

/// <summary>One caption request in the caption stage: its image's encoder state and how to decode.</summary>
internal sealed record CaptionJob(EncoderState EncoderState, GenerationPlan Plan);
