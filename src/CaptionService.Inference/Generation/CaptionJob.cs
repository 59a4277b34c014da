namespace CaptionService.Inference.Generation;

/// <summary>One caption request in the caption stage: its image's decoder inputs and how to decode.</summary>
internal sealed record CaptionJob(CaptionImage Image, GenerationPlan Plan);
