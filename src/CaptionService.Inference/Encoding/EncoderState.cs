using CaptionService.Inference.Generation;

namespace CaptionService.Inference.Encoding;

/// <summary>
/// One image's encoder output, <c>[SequenceLength, HiddenSize]</c> in a pooled buffer. The caption
/// and score stages read it; the request that owns it disposes it when it is answered.
/// </summary>
internal sealed class EncoderState : IDisposable
{
    private readonly PooledBuffer<float> _buffer;

    public EncoderState(int sequenceLength, int hiddenSize)
    {
        SequenceLength = sequenceLength;
        HiddenSize = hiddenSize;
        _buffer = new PooledBuffer<float>(sequenceLength * hiddenSize);
    }

    public int SequenceLength { get; }

    public int HiddenSize { get; }

    public int Length => _buffer.Length;

    public ReadOnlySpan<float> Values => _buffer.Span;

    internal Span<float> WritableValues => _buffer.Span;

    /// <summary>
    /// This image's row of the caption decoder's image inputs (every layer's cross-attention keys
    /// and values), when the encode stage made them (<see cref="DecoderGraph.PreparesImagesWhenEncoding"/>);
    /// owned by this state until <see cref="ReleaseCaptionImageInputs"/>.
    /// </summary>
    public DecoderImageInputs? CaptionImageInputs { get; private set; }

    public void KeepCaptionImageInputs(DecoderImageInputs inputs)
    {
        CaptionImageInputs?.Dispose();
        CaptionImageInputs = inputs;
    }

    /// <summary>Frees <see cref="CaptionImageInputs"/> once a decoder batch holds a copy, so that a decoding request holds them once.</summary>
    public void ReleaseCaptionImageInputs()
    {
        CaptionImageInputs?.Dispose();
        CaptionImageInputs = null;
    }

    public void Dispose()
    {
        ReleaseCaptionImageInputs();
        _buffer.Dispose();
    }
}
