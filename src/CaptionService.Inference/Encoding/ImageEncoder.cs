using CaptionService.Inference.Batching;
using CaptionService.Inference.Generation;

namespace CaptionService.Inference.Encoding;

/// <summary>
/// The encode stage: stacks the batch's images into one NCHW tensor, runs the encoder once, and
/// hands each request its own encoder state (which the request then owns). For an image to be
/// captioned it also prepares what the caption decoder reads about the image
/// (<see cref="DecoderGraph.PrepareImages"/>), so that the decoding loop, where every running
/// caption waits for it, only appends the result.
/// </summary>
internal sealed class ImageEncoder : IBatchExecutor<EncodeJob, EncodedImage>
{
    private readonly EncoderGraph _graph;
    private readonly DecoderGraph? _captionDecoder;
    private readonly int _height;
    private readonly int _width;

    /// <param name="graph">The encoder.</param>
    /// <param name="height">The preprocessed image height.</param>
    /// <param name="width">The preprocessed image width.</param>
    /// <param name="captionDecoder">The decoder that captions <see cref="EncodeJob.ForCaption"/> images; null when no job asks.</param>
    public ImageEncoder(EncoderGraph graph, int height, int width, DecoderGraph? captionDecoder = null)
    {
        _graph = graph;
        _captionDecoder = captionDecoder;
        _height = height;
        _width = width;
    }

    public int ImageLength => _graph.Channels * _height * _width;

    public ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<EncodeJob, EncodedImage>> batch, CancellationToken cancellationToken)
    {
        var states = Encode(batch.Select(request => request.Payload.Pixels).ToList());
        var answered = 0;
        try
        {
            var captionImages = PrepareCaptions(batch, states);
            for (; answered < batch.Count; answered++)
            {
                batch[answered].Complete(new EncodedImage(states[answered], captionImages[answered]));
            }
        }
        finally
        {
            // A failed preparation leaves the requests unanswered (the batcher fails them); their states go back to the pool.
            for (var i = answered; i < states.Length; i++)
            {
                states[i].Dispose();
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Encodes images already preprocessed to this encoder's size.</summary>
    public EncoderState[] Encode(IReadOnlyList<PooledBuffer<float>> images)
    {
        using var pixels = new PooledBuffer<float>(images.Count * ImageLength);
        for (var i = 0; i < images.Count; i++)
        {
            images[i].Span.CopyTo(pixels.Span.Slice(i * ImageLength, ImageLength));
        }

        return _graph.Run(pixels.Memory, images.Count, _height, _width);
    }

    /// <summary>
    /// The decoder inputs of the batch's images to be captioned, in one run of the image-cache
    /// graph, then one row per request (each request owns its row until the caption stage claims it).
    /// </summary>
    private CaptionImage?[] PrepareCaptions(IReadOnlyList<BatchRequest<EncodeJob, EncodedImage>> batch, EncoderState[] states)
    {
        var captioned = Enumerable.Range(0, batch.Count).Where(i => batch[i].Payload.ForCaption).ToArray();
        var images = new CaptionImage?[batch.Count];
        if (captioned.Length == 0)
        {
            return images;
        }

        var decoder = _captionDecoder ?? throw new InvalidOperationException("This encoder has no caption decoder to prepare images for.");
        var rows = decoder.PrepareImages([.. captioned.Select(i => states[i])]).SplitRows();
        for (var row = 0; row < captioned.Length; row++)
        {
            images[captioned[row]] = new CaptionImage(rows[row]);
        }

        return images;
    }
}
