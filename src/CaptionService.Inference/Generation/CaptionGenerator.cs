using CaptionService.Inference.Batching;

namespace CaptionService.Inference.Generation;

/// <summary>
/// The caption stage: all requests of a batch decode together in one KV-cached decoder batch,
/// each with its own strategy; a request is answered the moment its search finishes.
/// </summary>
internal sealed class CaptionGenerator : IBatchExecutor<CaptionJob, IReadOnlyList<GeneratedSequence>>
{
    private readonly DecoderGraph _graph;
    private readonly long _startToken;

    public CaptionGenerator(DecoderGraph graph, long startToken)
    {
        _graph = graph;
        _startToken = startToken;
    }

    public ValueTask ExecuteAsync(
        IReadOnlyList<BatchRequest<CaptionJob, IReadOnlyList<GeneratedSequence>>> batch, CancellationToken cancellationToken)
    {
        var searches = batch.Select(request => request.Payload.Plan.CreateSearch()).ToArray();
        using var decoder = new OnnxDecoderStep(_graph, [.. batch.Select(request => request.Payload.EncoderState)]);
        SearchDriver.Run(
            decoder,
            searches,
            _startToken,
            [.. batch.Select(request => request.CancellationToken)],
            onFinished: index => batch[index].Complete(searches[index].Results),
            onCancelled: index => batch[index].Fail(new OperationCanceledException(batch[index].CancellationToken)));
        return ValueTask.CompletedTask;
    }
}
