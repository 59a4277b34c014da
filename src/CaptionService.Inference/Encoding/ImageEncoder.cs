using CaptionService.Inference.Batching;
using CaptionService.Inference.Generation;

namespace CaptionService.Inference.Encoding;

/// <summary>
/// The encode stage: stacks the batch's images into one NCHW tensor, runs the encoder once, and
/// hands each request its own encoder state (which the request then owns). For the images that go
/// on to the caption stage, it also makes their decoder inputs when the caption decoder takes them
/// that way (<see cref="DecoderGraph.PreparesImagesWhenEncoding"/>), so that the work that depends
/// only on the image is done here rather than in the decoding batch the request joins.
/// </summary>
internal sealed class ImageEncoder : IBatchExecutor<EncodeJob, EncoderState>
{
    private readonly EncoderGraph _graph;
    private readonly int _height;
    private readonly int _width;
    private readonly DecoderGraph? _captionDecoder;

    /// <param name="graph">The encoder.</param>
    /// <param name="height">The images' height after preprocessing.</param>
    /// <param name="width">The images' width after preprocessing.</param>
    /// <param name="captionDecoder">The caption decoder whose image inputs this stage makes, when it takes them so; null: none.</param>
    public ImageEncoder(EncoderGraph graph, int height, int width, DecoderGraph? captionDecoder = null)
    {
        _graph = graph;
        _height = height;
        _width = width;
        _captionDecoder = captionDecoder is { PreparesImagesWhenEncoding: true } ? captionDecoder : null;
    }

    public int ImageLength => _graph.Channels * _height * _width;

    public ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<EncodeJob, EncoderState>> batch, CancellationToken cancellationToken)
    {
        var states = Encode(batch.Select(request => request.Payload.Pixels).ToList());
        try
        {
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch[i].Payload.ForCaption)
                {
                    _captionDecoder?.PrepareCaptionImage(states[i]);
                }
            }
        }
        catch
        {
            Array.ForEach(states, state => state.Dispose());
            throw;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Complete(states[i]);
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
}
