namespace CaptionService.Inference.Batching;

/// <summary>
/// Wraps each stage's executor as the engine builds it: the seam through which the functional
/// tests inject faults (an ONNX Runtime failure, a hung run) into a real engine's batches. A
/// decorated caption executor is a plain <see cref="IBatchExecutor{TPayload, TResult}"/>: its
/// batches run to completion, whatever <see cref="BatchingOptions.JoinRunningBatches"/> says.
/// </summary>
internal interface IBatchExecutorDecorator
{
    IBatchExecutor<TPayload, TResult> Decorate<TPayload, TResult>(string stage, IBatchExecutor<TPayload, TResult> executor);
}
