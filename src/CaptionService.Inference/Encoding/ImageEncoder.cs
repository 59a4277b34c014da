using CaptionService.Inference.Batching;
using CaptionService.Inference.Generation;

namespace CaptionService.Inference.Encoding;

/// <summary>
/// The encode stage: stacks the batch's images into one NCHW tensor, runs the encoder once, and
/// hands each request its own encoder state (which the request then owns). For the caption
/// requests of the batch it also makes, in one more run, what the decoder steps read about their
/// images (<see cref="DecoderGraph.PrepareImages"/>), each request's row attached to its state.
/// </summary>
internal sealed class ImageEncoder : IBatchExecutor<EncodeJob, EncoderState>
{
    private readonly EncoderGraph _graph;
    private readonly DecoderGraph? _captionDecoder;
    private readonly int _height;
    private readonly int _width;

    /// <summary>
    /// An encoder for images of <paramref name="height"/> × <paramref name="width"/>; with
    /// <paramref name="captionDecoder"/>, caption requests get that decoder's inputs here (without,
    /// the caption stage makes them when the requests join).
    /// </summary>
    public ImageEncoder(EncoderGraph graph, int height, int width, DecoderGraph? captionDecoder = null)
    {
        _graph = graph;
        _captionDecoder = captionDecoder;
        _height = height;
        _width = width;
    }

    public int ImageLength => _graph.Channels * _height * _width;

    public ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<EncodeJob, EncoderState>> batch, CancellationToken cancellationToken)
    {
        var states = Encode(batch.Select(request => request.Payload.Pixels).ToList());
        try
        {
            PrepareCaptionImages(batch, states);
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

    private void PrepareCaptionImages(IReadOnlyList<BatchRequest<EncodeJob, EncoderState>> batch, EncoderState[] states)
    {
        var captions = Enumerable.Range(0, batch.Count).Where(i => batch[i].Payload.ForCaption).ToList();
        if (_captionDecoder is null || captions.Count == 0)
        {
            return;
        }

        using var images = _captionDecoder.PrepareImages([.. captions.Select(i => states[i])]);
        var rows = images.SplitRows();
        for (var k = 0; k < captions.Count; k++)
        {
            states[captions[k]].AttachDecoderImage(rows[k]);
        }
    }
}
