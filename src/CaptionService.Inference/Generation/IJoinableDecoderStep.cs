using CaptionService.Inference.Encoding;

namespace CaptionService.Inference.Generation;

/// <summary>
/// A KV-cached <see cref="IDecoderStep"/> over the ONNX decoder, which rows can join while it runs
/// (<see cref="DecoderGraph.MergesRows"/>): the host-resident <see cref="OnnxDecoderStep"/> and the
/// device-resident <see cref="BoundDecoderStep"/> (<see cref="DecoderGraph.CreateStep"/> picks).
/// </summary>
internal interface IJoinableDecoderStep : IDecoderStep
{
    /// <summary>Slots in the cache: the longest row's tokens.</summary>
    int PastLength { get; }

    /// <summary>
    /// Appends one row per encoder state, with no tokens yet: their caches are zero padding, masked.
    /// Only for a graph that <see cref="DecoderGraph.MergesRows"/>.
    /// </summary>
    void AddRows(IReadOnlyList<EncoderState> encoderStates);
}
