using CaptionService.Inference.Batching;

namespace CaptionService.Inference.Encoding;

/// <summary>
/// The encode stage: stacks the batch's images into one NCHW tensor, runs the encoder once, and
/// hands each request its own encoder state (which the request then owns).
/// </summary>
internal sealed class ImageEncoder : IBatchExecutor<EncodeJob, EncoderState>
{
    private readonly EncoderGraph _graph;
    private readonly int _height;
    private readonly int _width;

    public ImageEncoder(EncoderGraph graph, int height, int width)
    {
        _graph = graph;
        _height = height;
        _width = width;
    }

    public int ImageLength => _graph.Channels * _height * _width;

    public ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<EncodeJob, EncoderState>> batch, CancellationToken cancellationToken)
    {
        var states = Encode(batch.Select(request => request.Payload.Pixels).ToList());
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
