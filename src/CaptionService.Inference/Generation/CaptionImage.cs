namespace CaptionService.Inference.Generation;

/// <summary>
/// One image's decoder inputs (<see cref="DecoderImageInputs"/>, one row), prepared in the encode
/// stage and handed over to the caption stage, which claims them when the request joins a decoder
/// batch. Whoever comes first owns them: the caption stage (the batch's buffers take the row), or
/// the request giving up before that.
/// </summary>
/// <remarks>
/// With an image-cache graph this is where each layer's cross-attention keys and values are
/// computed. For a real-size model that is about 2.8 G multiply-adds an image; done inside the
/// decoding loop, it stalled every running row's next step whenever requests joined.
/// </remarks>
internal sealed class CaptionImage(DecoderImageInputs inputs) : IDisposable
{
    private DecoderImageInputs? _inputs = inputs;

    /// <summary>Takes ownership of the inputs.</summary>
    /// <exception cref="InvalidOperationException">They were already claimed or disposed.</exception>
    public DecoderImageInputs Claim() =>
        Interlocked.Exchange(ref _inputs, null) ?? throw new InvalidOperationException("The image's decoder inputs were already claimed or released.");

    public void Dispose() => Interlocked.Exchange(ref _inputs, null)?.Dispose();
}
