namespace CaptionService.Inference.Encoding;

/// <summary>
/// One image in the encode stage: its preprocessed pixels (CHW), owned by the request, and whether
/// the image will be captioned, so that the stage also prepares what the decoder reads about it.
/// </summary>
internal sealed record EncodeJob(PooledBuffer<float> Pixels, bool ForCaption);
