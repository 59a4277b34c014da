using CaptionService.Inference.Generation;

namespace CaptionService.Inference.Encoding;

/// <summary>
/// One image's encoder output, <c>[SequenceLength, HiddenSize]</c> in a pooled buffer. The caption
/// and score stages read it; the request that owns it disposes it when it is answered.
/// </summary>
/// <remarks>
/// A caption request's state also carries what the decoder steps read about the image (its
/// cross-attention keys and values, with an image-cache graph), made in the encode stage: so the
/// decoding loop, which every running caption waits on, never stops to make it for a request that
/// joins. The caption stage takes it when the request's rows join a decoder batch; until then it
/// is the request's, and goes with the state.
/// </remarks>
internal sealed class EncoderState : IDisposable
{
    private readonly PooledBuffer<float> _buffer;
    private DecoderImageInputs? _decoderImage;

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

    /// <summary>Hands the state the decoder's inputs for its image (one row), which it then owns.</summary>
    internal void AttachDecoderImage(DecoderImageInputs image) =>
        Interlocked.Exchange(ref _decoderImage, image)?.Dispose();

    /// <summary>The decoder's inputs made in the encode stage, now the caller's; null when none were made (or they were taken).</summary>
    internal DecoderImageInputs? TakeDecoderImage() => Interlocked.Exchange(ref _decoderImage, null);

    public void Dispose()
    {
        Interlocked.Exchange(ref _decoderImage, null)?.Dispose();
        _buffer.Dispose();
    }
}
