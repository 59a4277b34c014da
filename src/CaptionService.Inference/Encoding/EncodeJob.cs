namespace CaptionService.Inference.Encoding;

/// <summary>
/// One image in the encode stage: its preprocessed pixels (CHW), owned by the request.
/// <paramref name="ForCaption"/>: the image goes on to the caption stage, so the encode stage also
/// makes its decoder inputs when the decoder takes them that way and requests join running batches
/// (<see cref="Generation.DecoderGraph.PreparesImagesWhenEncoding"/>).
/// <paramref name="ForBeamSearch"/>: the image goes on to a beam search, bulk work that lets greedy
/// captions' images be encoded first (see <see cref="BatchingOptions.GreedyReservedRows"/>).
/// </summary>
internal sealed record EncodeJob(PooledBuffer<float> Pixels, bool ForCaption = false, bool ForBeamSearch = false);
