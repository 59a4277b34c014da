using CaptionService.Inference.Generation;

namespace CaptionService.Inference.Encoding;

/// <summary>
/// What the encode stage hands a request: its encoder state and, for a caption, what the decoder
/// reads about the image. The request owns both and disposes whatever the caption stage did not claim.
/// </summary>
internal sealed class EncodedImage(EncoderState state, CaptionImage? captionImage) : IDisposable
{
    public EncoderState State => state;

    /// <summary>The decoder's inputs for this image; null unless the job was <see cref="EncodeJob.ForCaption"/>.</summary>
    public CaptionImage? CaptionImage => captionImage;

    public void Dispose()
    {
        captionImage?.Dispose();
        state.Dispose();
    }
}
