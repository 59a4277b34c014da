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

    public void Dispose() => _buffer.Dispose();
}
