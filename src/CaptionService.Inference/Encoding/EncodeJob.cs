namespace CaptionService.Inference.Encoding;

/// <summary>One image in the encode stage: its preprocessed pixels (CHW), owned by the request.</summary>
internal sealed record EncodeJob(PooledBuffer<float> Pixels);
